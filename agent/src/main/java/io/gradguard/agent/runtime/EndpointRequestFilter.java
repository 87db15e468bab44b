package io.gradguard.agent.runtime;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Sits in front of every handler of the endpoint: the endpoint is read-only, so it answers only
 * GET and HEAD, never reads a request body, refuses oversized request heads, and checks basic auth
 * when an {@code auth_file} is configured. Checks run in that order, so a refused request costs no
 * credential check and nothing of it reaches client_java's handlers.
 *
 * <p>The JDK server itself already caps a request head at 380 KiB and 200 headers; this filter's
 * tighter cap is applied after the JDK parsed the head, which is why no JVM-wide
 * {@code sun.net.httpserver.*} property is changed (it would also bind the job's own servers).
 */
final class EndpointRequestFilter extends Filter {

    /** A Prometheus scrape head is a few hundred bytes; 8 KiB leaves room for proxies' headers. */
    static final int MAX_HEAD_BYTES = 8 * 1024;

    private static final String ALLOWED = "GET, HEAD";

    private final EndpointCredentials credentials;

    /** @param credentials the accepted pair, or null for no authentication */
    EndpointRequestFilter(EndpointCredentials credentials) {
        this.credentials = credentials;
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        String method = exchange.getRequestMethod();
        Headers request = exchange.getRequestHeaders();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            exchange.getResponseHeaders().set("Allow", ALLOWED);
            refuse(exchange, 405);
        } else if (headBytes(exchange) > MAX_HEAD_BYTES) {
            refuse(exchange, 400);
        } else if (hasBody(request)) {
            refuse(exchange, 413);
        } else if (credentials != null && !credentials.accepts(request.getFirst("Authorization"))) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"gradguard\", charset=\"UTF-8\"");
            refuse(exchange, 401);
        } else {
            chain.doFilter(exchange);
        }
    }

    @Override
    public String description() {
        return "gradguard: GET/HEAD only, no bodies, bounded heads, optional basic auth";
    }

    /** The request line and headers as they came over the wire, give or take normalisation. */
    private static long headBytes(HttpExchange exchange) {
        long bytes = exchange.getRequestMethod().length() + exchange.getRequestURI().toString().length()
                + exchange.getProtocol().length() + 4;
        for (Map.Entry<String, List<String>> header : exchange.getRequestHeaders().entrySet()) {
            for (String value : header.getValue()) {
                bytes += header.getKey().length() + value.length() + 4;
            }
        }
        return bytes;
    }

    private static boolean hasBody(Headers request) {
        if (request.containsKey("Transfer-Encoding")) {
            return true;
        }
        for (String length : request.getOrDefault("Content-Length", List.of())) {
            if (!length.trim().equals("0")) {
                return true; // also a malformed length: refused, never parsed into a read
            }
        }
        return false;
    }

    /**
     * Answers without a body and asks the connection to close, so the JDK does not keep the
     * connection (and any unread body bytes behind the head) around for another request.
     */
    private static void refuse(HttpExchange exchange, int status) throws IOException {
        exchange.getResponseHeaders().set("Connection", "close");
        exchange.sendResponseHeaders(status, -1);
        exchange.close();
    }
}
