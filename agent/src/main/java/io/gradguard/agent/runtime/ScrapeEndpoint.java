package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Keys;
import io.gradguard.core.config.Part;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.exporter.httpserver.HealthyHandler;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Prometheus scrape endpoint ({@code /metrics}, {@code /-/healthy}) and the live page
 * ({@code /}, its files and {@code /api/steps}: {@link LivePage}, {@link LiveSteps}): client_java's handlers on
 * a JDK {@code HttpServer} (or {@code HttpsServer}) built here, because client_java's
 * {@code HTTPServer} offers no way to put a filter in front of its handlers. Every request passes
 * {@link EndpointRequestFilter}: GET and HEAD only, no bodies, bounded heads, optional basic auth.
 * Nothing the endpoint receives changes anything in the job.
 *
 * <p>Every thread it owns is a daemon, so the job still exits when training ends. Binds
 * {@code 127.0.0.1} unless {@code host} says otherwise, and says so loudly when that is every
 * interface. If the endpoint cannot start, one line says why and monitoring goes on without it.
 */
final class ScrapeEndpoint implements MetricsExporter {

    /** {@code port=auto}: 9404, or the next free port above it. */
    static final int AUTO = Keys.AUTO_PORT;

    private static final int DEFAULT_PORT = 9404;
    private static final int AUTO_TRIES = 50;
    // Two workers: scrapes must never compete with training for more than a sliver of the CPU;
    // concurrent scrapers wait in the queue (and the accept backlog) instead.
    private static final int WORKERS = 2;
    private static final int BACKLOG = 64;
    // Prometheus' default scrape timeout: no honest exchange on loopback needs longer.
    private static final Duration EXCHANGE_DEADLINE = Duration.ofSeconds(10);

    private final HttpServer server;
    private final EndpointWorkers workers;
    private final String scheme;
    private final String host;

    private ScrapeEndpoint(HttpServer server, EndpointWorkers workers, String scheme, String host) {
        this.server = server;
        this.workers = workers;
        this.scheme = scheme;
        this.host = host;
    }

    /** Starts the endpoint, or says in one line why not and returns null: monitoring goes on. */
    static ScrapeEndpoint start(GradGuardConfig config, PrometheusMeterRegistry registry, LiveHistory live) {
        if (config.port() == 0) {
            return null;
        }
        if (config.unusable(Part.ENDPOINT)) {
            // Fail closed: a broken auth_file or keystore means no endpoint, never an open one.
            System.err.println("[gradguard] no metrics endpoint: an endpoint setting could not be used (said above);"
                    + " monitoring and policies go on");
            return null;
        }
        EndpointCredentials credentials;
        HttpsConfigurator tls;
        InetAddress address;
        try {
            // Fail closed: a broken auth_file or keystore means no endpoint, never an open one.
            credentials = config.authFile() == null ? null : EndpointCredentials.read(config.authFile());
            tls = config.tlsKeystore() == null
                    ? null
                    : EndpointTls.configurator(config.tlsKeystore(), config.tlsPasswordEnv(), System.getenv());
            address = InetAddress.getByName(config.host());
        } catch (IOException | RuntimeException e) {
            System.err.println("[gradguard] no metrics endpoint: " + e.getMessage() + "; monitoring and policies go on");
            return null;
        }
        EndpointRequestFilter filter = new EndpointRequestFilter(credentials);
        boolean auto = config.port() == AUTO;
        int first = auto ? DEFAULT_PORT : config.port();
        int last = auto ? DEFAULT_PORT + AUTO_TRIES : first;
        for (int port = first; port <= last; port++) {
            try {
                ScrapeEndpoint endpoint = bind(new InetSocketAddress(address, port), tls, filter, registry, config.host(),
                        new LiveSteps(live, config.run()));
                if (address.isAnyLocalAddress()) {
                    System.err.println(
                            "[gradguard] WARNING: metrics endpoint listening on ALL interfaces (host=" + config.host()
                                    + ", port " + port + "): anyone who can reach this machine can read it"
                                    + (credentials == null ? ", without a password" : "")
                                    + (tls == null ? ", over plain HTTP" : "")
                                    + "; set host=127.0.0.1 to keep it local");
                }
                return endpoint;
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

    @Override
    public String describe() {
        return "metrics at " + url() + "metrics; live page at " + url();
    }

    /** The endpoint's root, e.g. {@code http://127.0.0.1:9404/}. */
    String url() {
        String shown = host.contains(":") ? "[" + host + "]" : host;
        return scheme + "://" + shown + ":" + server.getAddress().getPort() + "/";
    }

    @Override
    public void close() {
        server.stop(0);
        workers.close();
    }

    /**
     * The JDK's HTTP server starts its dispatcher thread with the creating thread's daemon flag,
     * so it is started from a daemon thread: a non-daemon dispatcher would keep the job's JVM alive.
     */
    private static ScrapeEndpoint bind(
            InetSocketAddress address,
            HttpsConfigurator tls,
            EndpointRequestFilter filter,
            PrometheusMeterRegistry registry,
            String host,
            LiveSteps liveSteps)
            throws IOException {
        EndpointWorkers workers = new EndpointWorkers(WORKERS, EXCHANGE_DEADLINE);
        AtomicReference<Object> result = new AtomicReference<>();
        Thread starter =
                new Thread(
                        () -> {
                            try {
                                HttpServer server;
                                if (tls == null) {
                                    server = HttpServer.create(address, BACKLOG);
                                } else {
                                    HttpsServer https = HttpsServer.create(address, BACKLOG);
                                    https.setHttpsConfigurator(tls);
                                    server = https;
                                }
                                server.setExecutor(workers);
                                guarded(server.createContext("/metrics", new EndpointMetricsCache(registry)), filter);
                                guarded(server.createContext("/-/healthy", new HealthyHandler()), filter);
                                guarded(server.createContext("/", new LivePage()), filter);
                                guarded(server.createContext("/api/steps", liveSteps), filter);
                                server.start();
                                result.set(server);
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
            workers.close();
            throw new IOException("interrupted while starting the endpoint", e);
        }
        Object r = result.get();
        if (r instanceof HttpServer) {
            return new ScrapeEndpoint((HttpServer) r, workers, tls == null ? "http" : "https", host);
        }
        workers.close();
        if (r instanceof IOException) {
            throw (IOException) r;
        }
        throw (RuntimeException) r;
    }

    private static void guarded(HttpContext context, EndpointRequestFilter filter) {
        context.getFilters().add(filter);
    }
}
