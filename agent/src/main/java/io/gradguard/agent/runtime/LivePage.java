package io.gradguard.agent.runtime;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;

/**
 * The live page ({@code /}) and its scripts and styles, every byte from the agent jar: the page
 * makes no request anywhere but to this endpoint, and its Content-Security-Policy says so to the
 * browser (scripts and styles from this origin only, no inline script, no frames, no forms). uPlot
 * and its licence are unpacked into the jar at build time from its WebJar.
 */
final class LivePage implements HttpHandler {

    /** Nothing runs or loads that is not one of the files below; data comes from {@code /api/steps}. */
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self';"
            + " img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static final String HTML = "text/html; charset=utf-8";
    private static final String JS = "text/javascript; charset=utf-8";
    private static final String CSS = "text/css; charset=utf-8";
    private static final String TEXT = "text/plain; charset=utf-8";
    private static final String SVG = "image/svg+xml";

    /** Path served -> resource under {@code io/gradguard/agent/live/} and its type. */
    private static final Map<String, String[]> FILES = Map.of(
            "/", new String[] {"index.html", HTML},
            "/live.js", new String[] {"live.js", JS},
            "/live.css", new String[] {"live.css", CSS},
            "/favicon.svg", new String[] {"favicon.svg", SVG},
            "/uplot/uPlot.iife.min.js", new String[] {"uplot/uPlot.iife.min.js", JS},
            "/uplot/uPlot.min.css", new String[] {"uplot/uPlot.min.css", CSS},
            "/uplot/LICENSE", new String[] {"uplot/LICENSE", TEXT});

    /** The paths the page answers, each exactly (the endpoint refuses any other path). */
    static Set<String> paths() {
        return FILES.keySet();
    }

    /** The files, read from the jar at the first request (start-up pays nothing for a page never opened). */
    private volatile Map<String, byte[]> bodies;

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String[] file = FILES.get(exchange.getRequestURI().getPath());
            if (file == null) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            send(exchange, file[1], body(exchange.getRequestURI().getPath()), "no-cache");
        }
    }

    private byte[] body(String path) {
        Map<String, byte[]> b = bodies;
        if (b == null) {
            Map<String, byte[]> read = new java.util.HashMap<>();
            FILES.forEach((p, f) -> read.put(p, resource(f[0])));
            bodies = b = Map.copyOf(read);
        }
        return b.get(path);
    }

    private static byte[] resource(String name) {
        try (InputStream in = LivePage.class.getResourceAsStream("/io/gradguard/agent/live/" + name)) {
            if (in == null) {
                throw new IllegalStateException("io/gradguard/agent/live/" + name + " is missing from the agent jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Answers 200 with a body (none for HEAD) and the headers every live response carries.
     *
     * @param cache the {@code Cache-Control} value
     */
    static void send(HttpExchange exchange, String contentType, byte[] body, String cache) throws IOException {
        Headers h = exchange.getResponseHeaders();
        h.set("Content-Type", contentType);
        h.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "no-referrer");
        h.set("Cache-Control", cache);
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
