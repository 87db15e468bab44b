package io.gradguard.agent.runtime;

import io.prometheus.metrics.exporter.pushgateway.PushGateway;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code pushgateway=HOST:PORT}: pushes the whole registry to a Prometheus Pushgateway every
 * interval, and once more on {@link #close()}, for jobs too short (or too firewalled) to be
 * scraped. The agent closes it from its shutdown hook, so the values of the last step arrive
 * after the job has exited.
 *
 * <p>One daemon thread, asleep between pushes: it never keeps the JVM alive and competes with
 * PyTorch's threads only while it serializes and sends. Every push is a {@code PUT} of the full
 * registry under {@code /metrics/job/JOB/run/RUN/instance/HOST:PID}, so each push replaces the
 * previous one of the same process.
 *
 * <p>Failures never reach the caller: each distinct kind (connection refused, HTTP 400, ...) is
 * said once on stderr, and pushing goes on at the next interval.
 */
final class MetricsPush implements MetricsExporter {

    /** Longest the final push may delay the JVM's exit (client_java's own timeouts are 10 s). */
    static final long FINAL_PUSH_WAIT_SECONDS = 5;

    private static final Pattern HTTP_STATUS = Pattern.compile("Response code from .* was (\\d+)");

    private final String hostPort;
    private final PushGateway gateway;
    private final ScheduledThreadPoolExecutor scheduler;
    private final Set<String> reportedFailures = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    private MetricsPush(String hostPort, PushGateway gateway, ScheduledThreadPoolExecutor scheduler) {
        this.hostPort = hostPort;
        this.gateway = gateway;
        this.scheduler = scheduler;
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
     * @return the running pusher, or null when it could not be created
     */
    static MetricsPush start(
            String hostPort, int intervalSeconds, PrometheusRegistry registry, String job, Map<String, String> groupingKey) {
        ScheduledThreadPoolExecutor scheduler = null;
        try {
            PushGateway.Builder builder = PushGateway.builder().address(hostPort).job(job).registry(registry);
            groupingKey.forEach(builder::groupingKey);
            PushGateway gateway = builder.build();
            scheduler =
                    new ScheduledThreadPoolExecutor(
                            1,
                            r -> {
                                Thread t = new Thread(r, "gradguard-push");
                                t.setDaemon(true);
                                return t;
                            });
            scheduler.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
            scheduler.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
            MetricsPush push = new MetricsPush(hostPort, gateway, scheduler);
            long interval = Math.max(1, intervalSeconds);
            // Fixed delay, not rate: a slow Pushgateway never causes pushes to pile up.
            scheduler.scheduleWithFixedDelay(push::pushQuietly, interval, interval, TimeUnit.SECONDS);
            return push;
        } catch (RuntimeException | LinkageError e) {
            if (scheduler != null) {
                scheduler.shutdownNow();
            }
            System.err.println("[gradguard] no pushes to " + hostPort + " (" + e + "); monitoring and policies go on");
            return null;
        }
    }

    /**
     * The grouping key the agent uses: the run, and this process as {@code HOST:PID} so that
     * parallel workers of one run do not overwrite each other's group.
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
        return hostName() + ":" + ProcessHandle.current().pid();
    }

    @Override
    public String describe() {
        return "pushing to " + hostPort;
    }

    /** Pushes once more (waiting at most {@link #FINAL_PUSH_WAIT_SECONDS}) and stops the thread. */
    @Override
    public void flush() {
        close();
    }

    /** Pushes once more (waiting at most {@link #FINAL_PUSH_WAIT_SECONDS}) and stops the thread. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        // The final push runs on the push thread, behind any push in flight, so two never overlap
        // and the wait for a silent Pushgateway is bounded.
        Future<?> last = scheduler.submit(this::pushQuietly);
        scheduler.shutdown();
        try {
            last.get(FINAL_PUSH_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            System.err.println("[gradguard] final push to " + hostPort + " still running after " + FINAL_PUSH_WAIT_SECONDS + " s; not waiting");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            report(e.getCause());
        } finally {
            scheduler.shutdownNow();
        }
    }

    private void pushQuietly() {
        try {
            gateway.push();
        } catch (IOException | RuntimeException e) {
            report(e);
        }
    }

    private void report(Throwable e) {
        String kind = kind(e);
        if (reportedFailures.add(kind)) {
            System.err.println(
                    "[gradguard] push to Pushgateway " + hostPort + " failed (" + kind + "): " + e.getMessage()
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

    private static String hostName() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException | RuntimeException e) {
            return "unknown-host";
        }
    }
}
