package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.gradguard.core.guard.OffThreadSinks;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.zip.GZIPOutputStream;

/**
 * Serves {@code /metrics} from an exposition rendered at most once per second per format. Any
 * number of scrapers then costs the job about one render a second, and the training thread never
 * waits on it (gauges are plain fields). Values are at most one second old; a step takes
 * milliseconds, so a scrape still sees the training as it is.
 *
 * <p>As client_java's {@code HTTPServer}: gzip when the request accepts it (Prometheus does), and
 * {@code ?name[]=NAME} (repeatable) to ask for some metric families only, by family name
 * ({@code gradguard_steps}) or sample name ({@code gradguard_steps_total}); such a filtered scrape
 * is rendered for the request.
 */
final class EndpointMetricsCache implements HttpHandler {

    static final long MAX_AGE_NANOS = 1_000_000_000L;

    private static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    private static final List<String> SAMPLE_SUFFIXES =
            List.of("_total", "_bucket", "_count", "_sum", "_created", "_info");
    private static final int MAX_NAMES = 100;

    private final PrometheusMeterRegistry registry;
    private volatile Rendered text;
    private volatile Rendered openMetrics;

    EndpointMetricsCache(PrometheusMeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String accept = exchange.getRequestHeaders().getFirst("Accept");
            boolean om = accept != null && accept.contains("application/openmetrics-text");
            boolean gzip = acceptsGzip(exchange.getRequestHeaders().get("Accept-Encoding"));
            Set<String> names = requestedNames(exchange.getRequestURI().getRawQuery());
            String type = om ? OPEN_METRICS : TEXT;
            byte[] body;
            if (names.isEmpty()) {
                Rendered r = fresh(om);
                body = gzip ? r.gzipped() : r.body();
            } else {
                recordPending();
                byte[] plain = registry.scrape(type, names).getBytes(StandardCharsets.UTF_8);
                body = gzip ? gzip(plain) : plain;
            }
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.getResponseHeaders().set("Vary", "Accept-Encoding");
            if (gzip) {
                exchange.getResponseHeaders().set("Content-Encoding", "gzip");
            }
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }

    /** Every step so far into the meters: the reports still on their way to the sinks, then the deferred values. */
    private static void recordPending() {
        OffThreadSinks.deliverAll();
        GradGuardMetrics.recordPending();
    }

    private Rendered fresh(boolean om) {
        Rendered r = om ? openMetrics : text;
        long now = System.nanoTime();
        if (r != null && now - r.renderedAt < MAX_AGE_NANOS) {
            return r;
        }
        synchronized (this) {
            r = om ? openMetrics : text;
            if (r != null && now - r.renderedAt < MAX_AGE_NANOS) {
                return r; // another scraper rendered it while this one waited
            }
            String type = om ? OPEN_METRICS : TEXT;
            recordPending();
            r = new Rendered(System.nanoTime(), registry.scrape(type).getBytes(StandardCharsets.UTF_8));
            if (om) {
                openMetrics = r;
            } else {
                text = r;
            }
            return r;
        }
    }

    /** {@code Accept-Encoding} lists gzip with a weight above 0. */
    static boolean acceptsGzip(List<String> acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String header : acceptEncoding) {
            for (String item : header.split(",")) {
                String[] parts = item.trim().toLowerCase(Locale.ROOT).split(";");
                if (parts[0].trim().equals("gzip")) {
                    boolean refused =
                            parts.length > 1 && parts[1].replace(" ", "").matches("q=0(\\.0*)?");
                    return !refused;
                }
            }
        }
        return false;
    }

    /** The family names asked for with {@code name[]}; a sample name also asks for its family. */
    static Set<String> requestedNames(String rawQuery) {
        Set<String> names = new LinkedHashSet<>();
        if (rawQuery == null) {
            return names;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || names.size() >= MAX_NAMES) {
                continue;
            }
            String key;
            String value;
            try {
                key = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
                value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                continue; // a malformed escape: not a name
            }
            if (key.equals("name[]") && !value.isEmpty()) {
                names.add(value);
                for (String suffix : SAMPLE_SUFFIXES) {
                    if (value.endsWith(suffix) && value.length() > suffix.length()) {
                        names.add(value.substring(0, value.length() - suffix.length()));
                    }
                }
            }
        }
        return names;
    }

    private static byte[] gzip(byte[] plain) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 4 + 64);
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(plain);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: does not happen
        }
        return out.toByteArray();
    }

    /** One render; its gzip form is made on the first request that wants it. */
    private static final class Rendered {
        final long renderedAt;
        private final byte[] body;
        private byte[] gzipped;

        Rendered(long renderedAt, byte[] body) {
            this.renderedAt = renderedAt;
            this.body = body;
        }

        byte[] body() {
            return body;
        }

        synchronized byte[] gzipped() {
            if (gzipped == null) {
                gzipped = gzip(body);
            }
            return gzipped;
        }
    }
}
