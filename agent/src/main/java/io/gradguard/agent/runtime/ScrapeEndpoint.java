package io.gradguard.agent.runtime;

import io.gradguard.core.config.GradGuardConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HTTPServer;

import java.io.IOException;
import java.net.BindException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Prometheus scrape endpoint ({@code /metrics}, {@code /-/healthy}) on client_java's
 * HTTPServer. Every thread it owns is a daemon, so the job still exits when training ends.
 */
final class ScrapeEndpoint implements AutoCloseable {

    /** {@code port=auto}: 9404, or the next free port above it. */
    static final int AUTO = GradGuardConfig.AUTO_PORT;

    private static final int DEFAULT_PORT = 9404;
    private static final int AUTO_TRIES = 50;

    private final HTTPServer server;
    private final String host;

    private ScrapeEndpoint(HTTPServer server, String host) {
        this.server = server;
        this.host = host;
    }

    /** Starts the endpoint, or says in one line why not and returns null: monitoring goes on. */
    static ScrapeEndpoint start(GradGuardConfig config, PrometheusMeterRegistry registry) {
        if (config.port() == 0) {
            return null;
        }
        boolean auto = config.port() == AUTO;
        int first = auto ? DEFAULT_PORT : config.port();
        int last = auto ? DEFAULT_PORT + AUTO_TRIES : first;
        for (int port = first; port <= last; port++) {
            try {
                return new ScrapeEndpoint(bind(config.host(), port, registry), config.host());
            } catch (BindException e) {
                if (port == last) {
                    System.err.println(
                            "[gradguard] port "
                                    + (auto ? first + "-" + last : String.valueOf(port))
                                    + " on "
                                    + config.host()
                                    + " is in use: no metrics endpoint (set port=auto or another port);"
                                    + " monitoring and policies go on");
                }
            } catch (IOException | RuntimeException e) {
                System.err.println("[gradguard] no metrics endpoint (" + e + "); monitoring and policies go on");
                return null;
            }
        }
        return null;
    }

    String url() {
        return "http://" + host + ":" + server.getPort() + "/metrics";
    }

    @Override
    public void close() {
        server.close();
    }

    /**
     * The JDK's HTTP server starts its dispatcher thread with the creating thread's daemon flag,
     * so it is created from a daemon thread: a non-daemon dispatcher would keep the job's JVM alive.
     */
    private static HTTPServer bind(String host, int port, PrometheusMeterRegistry registry) throws IOException {
        ExecutorService workers =
                Executors.newFixedThreadPool(
                        2,
                        r -> {
                            Thread t = new Thread(r, "gradguard-scrape");
                            t.setDaemon(true);
                            return t;
                        });
        AtomicReference<Object> result = new AtomicReference<>();
        Thread starter =
                new Thread(
                        () -> {
                            try {
                                result.set(
                                        HTTPServer.builder()
                                                .hostname(host)
                                                .port(port)
                                                .executorService(workers)
                                                .registry(registry.getPrometheusRegistry())
                                                .buildAndStart());
                            } catch (IOException | RuntimeException e) {
                                result.set(e);
                            }
                        },
                        "gradguard-endpoint-start");
        starter.setDaemon(true);
        starter.start();
        try {
            starter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while starting the endpoint", e);
        }
        Object r = result.get();
        if (r instanceof HTTPServer) {
            return (HTTPServer) r;
        }
        workers.shutdownNow();
        if (r instanceof IOException) {
            throw (IOException) r;
        }
        throw (RuntimeException) r;
    }
}
