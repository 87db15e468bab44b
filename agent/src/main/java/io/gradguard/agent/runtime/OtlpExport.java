package io.gradguard.agent.runtime;

import io.gradguard.core.config.ConfigException;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.OtlpKeys;
import io.gradguard.core.config.Part;
import io.gradguard.core.console.Console;
import io.micrometer.core.instrument.Clock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.registry.otlp.AggregationTemporality;
import io.micrometer.registry.otlp.OtlpConfig;
import io.micrometer.registry.otlp.OtlpMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * {@code otlp.endpoint=URL}: the same meters, exported through Micrometer's OTLP registry
 * (OTLP/HTTP, protobuf) every {@code otlp.interval} seconds and once more at exit, for platforms
 * that collect with the OpenTelemetry Collector instead of scraping.
 *
 * <p>The values are cumulative, as Prometheus counts them, and times are in seconds, the
 * contract's base unit (Micrometer's OTLP default would be milliseconds). The resource carries
 * {@code service.name} (from {@code OTEL_SERVICE_NAME} or {@code OTEL_RESOURCE_ATTRIBUTES}, else
 * {@code gradguard}, the Pushgateway's job) and {@code service.instance.id} = {@code HOST:PID}, so
 * that parallel workers of one run stay apart, as their Pushgateway groups do.
 *
 * <p>One daemon thread, asleep between exports. Failures never reach the job: each kind is said
 * once ({@link OtlpLog}).
 */
final class OtlpExport implements MetricsExporter {

    /** Longest the last export may delay the JVM's exit (the JDK client's read timeout is 10 s). */
    static final long LAST_EXPORT_WAIT_SECONDS = 5;

    private final String shownUrl;
    private final int intervalSeconds;
    private final List<String> headerNames;
    private final Registry registry;
    private volatile boolean flushed;

    private OtlpExport(String shownUrl, int intervalSeconds, List<String> headerNames, Registry registry) {
        this.shownUrl = shownUrl;
        this.intervalSeconds = intervalSeconds;
        this.headerNames = headerNames;
        this.registry = registry;
    }

    /**
     * Starts the export when {@code otlp.endpoint} is set and every OTLP setting is usable (an
     * unusable one was said at start). Never throws: a registry that cannot be built is said in
     * one line and gives null.
     *
     * @param config the configuration
     * @param environment where {@code otlp.headers_env} is read
     * @return the running export, or null
     */
    static OtlpExport start(GradGuardConfig config, Map<String, String> environment) {
        String url = config.get(OtlpKeys.ENDPOINT);
        if (url == null || config.unusable(Part.OTLP)) {
            return null;
        }
        String shown = shown(url);
        try {
            Map<String, String> headers = OtlpKeys.headers(config, environment);
            int interval = config.get(OtlpKeys.INTERVAL);
            OtlpLog.install(shown);
            Registry registry = new Registry(settings(url, headers, interval), r -> {
                Thread t = new Thread(r, "gradguard-otlp");
                t.setDaemon(true);
                return t;
            });
            return new OtlpExport(shown, interval, List.copyOf(headers.keySet()), registry);
        } catch (ConfigException e) {
            Console.info(e.getMessage().substring("gradguard: ".length()) + " (" + Part.OTLP.consequence() + ")");
            return null;
        } catch (RuntimeException | LinkageError e) {
            Console.info("no OTLP export to " + shown + " (" + e + "); monitoring and policies go on");
            return null;
        }
    }

    /**
     * The registry the meters are registered on: the OTLP registry and, when the scrape endpoint
     * or the Pushgateway push reads it, the Prometheus registry beside it. A composite keeps one
     * registration per meter; each child applies its own naming, so the Prometheus names are
     * exactly those of the Prometheus registry alone.
     *
     * @param prometheus the registry the endpoint and the push read, or null when neither runs
     * @return the registry to register on
     */
    MeterRegistry registryBeside(MeterRegistry prometheus) {
        if (prometheus == null) {
            return registry;
        }
        return new CompositeMeterRegistry(Clock.SYSTEM, List.of(prometheus, registry));
    }

    @Override
    public String describe() {
        return "OTLP to " + shownUrl + " every " + intervalSeconds + " s"
                + (headerNames.isEmpty() ? "" : " with headers " + String.join(", ", headerNames));
    }

    /**
     * Stops the periodic exports and sends the last one, waiting at most {@link
     * #LAST_EXPORT_WAIT_SECONDS}: what the job's last step left in the meters.
     */
    @Override
    public void flush() {
        if (flushed) {
            return;
        }
        flushed = true;
        Thread last = new Thread(registry::exportLast, "gradguard-otlp-last");
        last.setDaemon(true);
        last.start();
        try {
            last.join(TimeUnit.SECONDS.toMillis(LAST_EXPORT_WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (last.isAlive()) {
            Console.info("last OTLP export to " + shownUrl + " still running after " + LAST_EXPORT_WAIT_SECONDS
                    + " s; not waiting");
        }
    }

    @Override
    public void close() {
        registry.stop();
    }

    /** The URL as lines show it: a query may carry a key, so it is not shown. */
    static String shown(String url) {
        int q = url.indexOf('?');
        return q < 0 ? url : url.substring(0, q) + "?...";
    }

    private static OtlpConfig settings(String url, Map<String, String> headers, int intervalSeconds) {
        String instance = MetricsPush.processInstance();
        return new OtlpConfig() {
            @Override
            public String get(String key) {
                return null; // every setting below is explicit: no OTEL_* endpoint or headers variable applies
            }

            @Override
            public String url() {
                return url;
            }

            @Override
            public Map<String, String> headers() {
                return headers;
            }

            @Override
            public Duration step() {
                return Duration.ofSeconds(intervalSeconds);
            }

            @Override
            public AggregationTemporality aggregationTemporality() {
                return AggregationTemporality.CUMULATIVE;
            }

            @Override
            public TimeUnit baseTimeUnit() {
                return TimeUnit.SECONDS;
            }

            @Override
            public Map<String, String> resourceAttributes() {
                // OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME first, as Micrometer reads them
                Map<String, String> attributes = new HashMap<>(OtlpConfig.super.resourceAttributes());
                attributes.putIfAbsent("service.name", "gradguard");
                attributes.putIfAbsent("service.instance.id", instance);
                return attributes;
            }
        };
    }

    /** Micrometer's OTLP registry with a last export that no scheduled one can overlap or follow. */
    private static final class Registry extends OtlpMeterRegistry {

        Registry(OtlpConfig config, ThreadFactory threads) {
            super(config, Clock.SYSTEM, threads);
        }

        void exportLast() {
            // Scheduled exports stop first, and one in flight is awaited: it may have read the
            // meters before the last step, and the close-time publish would skip while it runs.
            stop();
            waitForInProgressScheduledPublish();
            publish();
        }
    }
}
