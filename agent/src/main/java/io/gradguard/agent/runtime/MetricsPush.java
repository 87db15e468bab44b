package io.gradguard.agent.runtime;

import io.gradguard.core.console.Console;
import io.prometheus.metrics.exporter.pushgateway.PushGateway;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code pushgateway=HOST:PORT}: pushes the whole registry to a Prometheus Pushgateway every
 * interval, for jobs too short (or too firewalled) to be scraped. At the JVM's orderly exit (the
 * agent's shutdown hook) it deletes this process's group ({@code push_delete_on_exit}, the
 * default), so a finished run's series disappear instead of lying flat for ever and firing
 * {@code GradGuardTrainingStalled}; a process that dies without its hooks (a crash, {@code kill -9})
 * leaves its last values, and that alert then says the truth. With {@code
 * push_delete_on_exit=false} it pushes once more instead, so the values of the last step stay.
 *
 * <p>One daemon thread, asleep between pushes: it never keeps the JVM alive and competes with
 * PyTorch's threads only while it serializes and sends. Every push is a {@code PUT} of the full
 * registry under {@code /metrics/job/JOB/run/RUN/instance/HOST:PID}, so each push replaces the
 * previous one of the same process. Every exchange with the Pushgateway is cut after {@link
 * #PUSH_TIMEOUT_SECONDS} (client_java's own timeouts are per read, so a gateway answering a byte
 * every few seconds would otherwise hold the thread for ever).
 *
 * <p>Failures never reach the caller: each distinct kind (connection refused, HTTP 400, timeout,
 * ...) is said once on stderr, pushing goes on at the next interval, and {@link #REPEATED} failures
 * in a row are said once more, with when the gateway last got this run's values.
 */
final class MetricsPush implements MetricsExporter {

    /** Longest one exchange with the Pushgateway may take. */
    static final long PUSH_TIMEOUT_SECONDS = 5;

    /** Longest the exit may wait for the last push or delete (one in flight may still be ahead). */
    static final long FINAL_PUSH_WAIT_SECONDS = 2 * PUSH_TIMEOUT_SECONDS;

    /** Failures in a row that are said, once per streak. */
    static final int REPEATED = 3;

    private static final Pattern HTTP_STATUS = Pattern.compile("Response code from .* was (\\d+)");

    private final String hostPort;
    private final PushGateway gateway;
    private final boolean deleteOnExit;
    private final ScheduledThreadPoolExecutor scheduler;
    private final ScheduledThreadPoolExecutor deadlines;
    private final AtomicReference<HttpURLConnection> inFlight = new AtomicReference<>();
    private final Set<String> reportedFailures = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private int failuresInRow;
    private long lastSuccessMillis;

    private MetricsPush(
            String hostPort,
            PushGateway.Builder builder,
            boolean deleteOnExit,
            ScheduledThreadPoolExecutor scheduler,
            ScheduledThreadPoolExecutor deadlines) {
        this.hostPort = hostPort;
        this.gateway = builder.connectionFactory(url -> {
                    HttpURLConnection c = (HttpURLConnection) url.openConnection();
                    inFlight.set(c);
                    return c;
                })
                .build();
        this.deleteOnExit = deleteOnExit;
        this.scheduler = scheduler;
        this.deadlines = deadlines;
    }

    /**
     * Starts pushing. Never throws: a Pushgateway client that cannot be built is said in one line
     * and gives null, and the job goes on with its scrape endpoint (if any).
     *
     * @param hostPort {@code HOST:PORT} of the Pushgateway (validated by the configuration)
     * @param intervalSeconds seconds between pushes; the first push comes one interval after start
     * @param registry what to push
     * @param job the {@code job} label of the pushed group
     * @param groupingKey further grouping labels, in URL order (see {@link #groupingKey})
     * @param deleteOnExit whether {@link #close()} deletes the group instead of pushing once more
     * @return the running pusher, or null when it could not be created
     */
    static MetricsPush start(
            String hostPort,
            int intervalSeconds,
            PrometheusRegistry registry,
            String job,
            Map<String, String> groupingKey,
            boolean deleteOnExit) {
        ScheduledThreadPoolExecutor scheduler = null;
        ScheduledThreadPoolExecutor deadlines = null;
        try {
            PushGateway.Builder builder =
                    PushGateway.builder().address(hostPort).job(job).registry(registry);
            groupingKey.forEach(builder::groupingKey);
            scheduler = daemonScheduler("gradguard-push");
            scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            scheduler.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
            deadlines = daemonScheduler("gradguard-push-deadline");
            deadlines.setRemoveOnCancelPolicy(true);
            MetricsPush push = new MetricsPush(hostPort, builder, deleteOnExit, scheduler, deadlines);
            long interval = Math.max(1, intervalSeconds);
            // Fixed delay, not rate: a slow Pushgateway never causes pushes to pile up.
            scheduler.scheduleWithFixedDelay(
                    () -> push.quietly(push.gateway::push), interval, interval, TimeUnit.SECONDS);
            return push;
        } catch (RuntimeException | LinkageError e) {
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            if (deadlines != null) {
                deadlines.shutdownNow();
            }
            Console.info("no pushes to " + hostPort + " (" + e + "); monitoring and policies go on");
            return null;
        }
    }

    /**
     * The grouping key the agent uses: the run, and this process as {@code HOST:PID} so that
     * parallel workers of one run do not overwrite each other's group. May look up this machine's
     * name: call it off the training thread.
     *
     * @param run the run id
     * @return {@code run} and {@code instance}, in that order
     */
    static Map<String, String> groupingKey(String run) {
        Map<String, String> key = new LinkedHashMap<>();
        key.put("run", run);
        key.put("instance", processInstance());
        return key;
    }

    /**
     * This process as other exporters name it too.
     *
     * @return {@code HOST:PID}
     */
    static String processInstance() {
        return EndpointHosts.machineName() + ":" + ProcessHandle.current().pid();
    }

    @Override
    public String describe() {
        return "pushing to " + hostPort;
    }

    /** The last push or delete (see the class comment), then the thread stops. */
    @Override
    public void flush() {
        close();
    }

    /**
     * Deletes the group (or pushes once more), waiting at most {@link #FINAL_PUSH_WAIT_SECONDS},
     * and stops the threads.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The last exchange runs on the push thread, behind any push in flight, so two never
        // overlap, and the wait for a silent Pushgateway is bounded.
        Future<?> last = scheduler.submit(() -> {
            if (deleteOnExit) {
                if (quietly(gateway::delete)) {
                    Console.info("deleted this process's group from the Pushgateway " + hostPort
                            + " at exit (push_delete_on_exit=false keeps the last values there)");
                }
            } else {
                quietly(gateway::push);
            }
        });
        scheduler.shutdown();
        try {
            last.get(FINAL_PUSH_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            Console.info("final " + (deleteOnExit ? "delete" : "push") + " at " + hostPort + " still running after "
                    + FINAL_PUSH_WAIT_SECONDS + " s; not waiting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            report(e.getCause());
        } finally {
            scheduler.shutdownNow();
            deadlines.shutdownNow();
        }
    }

    /** One exchange, cut after {@link #PUSH_TIMEOUT_SECONDS}; runs on the push thread only. */
    private boolean quietly(Exchange exchange) {
        AtomicBoolean cut = new AtomicBoolean();
        ScheduledFuture<?> deadline = deadlines.schedule(
                () -> {
                    HttpURLConnection c = inFlight.get();
                    if (c != null) {
                        cut.set(true);
                        c.disconnect(); // closes the socket: the blocked read fails at once
                    }
                },
                PUSH_TIMEOUT_SECONDS,
                TimeUnit.SECONDS);
        try {
            exchange.run();
            if (failuresInRow >= REPEATED) {
                Console.info("pushes to Pushgateway " + hostPort + " work again after " + failuresInRow + " failures");
            }
            failuresInRow = 0;
            lastSuccessMillis = System.currentTimeMillis();
            return true;
        } catch (IOException | RuntimeException e) {
            report(
                    cut.get()
                            ? new SocketTimeoutException(
                                    "no complete answer within " + PUSH_TIMEOUT_SECONDS + " s; cut")
                            : e);
            if (++failuresInRow == REPEATED) {
                Console.warn(
                        "pushes to Pushgateway " + hostPort + " have failed " + REPEATED + " times in a row; it holds"
                                + " this run's values "
                                + (lastSuccessMillis == 0
                                        ? "from no push at all"
                                        : "as of " + java.time.Instant.ofEpochMilli(lastSuccessMillis))
                                + " (said once per streak)");
            }
            return false;
        } finally {
            deadline.cancel(false);
            inFlight.set(null);
        }
    }

    /** A call to the Pushgateway. */
    private interface Exchange {
        void run() throws IOException;
    }

    private void report(Throwable e) {
        String kind = kind(e);
        if (reportedFailures.add(kind)) {
            Console.info("push to Pushgateway " + hostPort + " failed (" + kind + "): " + e.getMessage()
                    + "; retrying at each interval, said once per kind of failure");
        }
    }

    /** Same kind = same exception class and, for an HTTP answer, same status code. */
    static String kind(Throwable e) {
        String message = String.valueOf(e.getMessage());
        Matcher m = HTTP_STATUS.matcher(message);
        if (m.find()) {
            return "http " + m.group(1);
        }
        // client_java wraps the cause (ConnectException, UnknownHostException...) in an IOException.
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getName();
    }

    private static ScheduledThreadPoolExecutor daemonScheduler(String name) {
        return new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }
}
