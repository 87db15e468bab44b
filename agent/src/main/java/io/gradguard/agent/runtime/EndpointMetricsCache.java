package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Serves {@code /metrics} from an exposition rendered at most once per second per format. Any
 * number of scrapers then costs the job about one render a second, and the training thread never
 * waits on it (gauges are plain fields). Values are at most one second old; a step takes
 * milliseconds, so a scrape still sees the training as it is.
 */
final class EndpointMetricsCache implements HttpHandler {

    static final long MAX_AGE_NANOS = 1_000_000_000L;

    private static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String OPEN_METRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

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
            Rendered r = fresh(om);
            exchange.getResponseHeaders().set("Content-Type", r.contentType());
            if ("HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, r.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(r.body());
            }
        }
    }

    private Rendered fresh(boolean om) {
        Rendered r = om ? openMetrics : text;
        long now = System.nanoTime();
        if (r != null && now - r.renderedAt() < MAX_AGE_NANOS) {
            return r;
        }
        synchronized (this) {
            r = om ? openMetrics : text;
            if (r != null && now - r.renderedAt() < MAX_AGE_NANOS) {
                return r; // another scraper rendered it while this one waited
            }
            String type = om ? OPEN_METRICS : TEXT;
            r = new Rendered(System.nanoTime(), registry.scrape(type).getBytes(StandardCharsets.UTF_8), type);
            if (om) {
                openMetrics = r;
            } else {
                text = r;
            }
            return r;
        }
    }

    private record Rendered(long renderedAt, byte[] body, String contentType) {}
}
