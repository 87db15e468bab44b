package io.gradguard.agent.runtime;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import io.gradguard.core.console.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Sits in front of every handler of the endpoint, in this order: the endpoint is read-only, so it
 * answers only GET and HEAD and never takes a request body; the {@code Host} header must name this
 * endpoint ({@code host_check}, against DNS rebinding); the path must be a context's own path
 * (exact: {@code /metricsX} is not {@code /metrics}; a context path ending in {@code /} also serves
 * the paths below it); then basic auth when an {@code auth_file} is configured. A refused request
 * costs no credential check and nothing of it reaches a handler. Request heads are bounded by
 * {@link EndpointServer} before this filter sees them.
 */
final class EndpointRequestFilter extends Filter {

    private static final String ALLOWED = "GET, HEAD";

    private final EndpointCredentials credentials;
    private final EndpointHosts hosts;

    /**
     * @param credentials the accepted pair, or null for no authentication
     * @param hosts the accepted Host names, or null when {@code host_check=false}
     */
    EndpointRequestFilter(EndpointCredentials credentials, EndpointHosts hosts) {
        this.credentials = credentials;
        this.hosts = hosts;
    }

    @Override
    public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        String method = exchange.getRequestMethod();
        Headers request = exchange.getRequestHeaders();
        if (!"GET".equals(method) && !"HEAD".equals(method)) {
            exchange.getResponseHeaders().set("Allow", ALLOWED);
            refuse(exchange, 405, null);
        } else if (announcesBody(request)) {
            refuse(exchange, 413, null);
        } else if (hosts != null
                && !hosts.accepts(
                        request.getFirst("Host"), exchange.getLocalAddress().getPort())) {
            Console.once(
                    "host-check",
                    "refused a request whose Host header (" + shown(request.getFirst("Host"))
                            + ") does not name this endpoint, as a DNS-rebinding web page would send; accepted: "
                            + hosts.names() + " (said once; host_check=false accepts any Host)");
            refuse(exchange, 403, "Host header does not name this endpoint; see host_check");
        } else if (!exactPath(exchange)) {
            refuse(exchange, 404, null);
        } else if (credentials != null && !credentials.accepts(request.getFirst("Authorization"))) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"gradguard\", charset=\"UTF-8\"");
            refuse(exchange, 401, null);
        } else {
            chain.doFilter(exchange);
        }
    }

    @Override
    public String description() {
        return "gradguard: GET/HEAD only, no bodies, Host check, exact paths, optional basic auth";
    }

    private static boolean exactPath(HttpExchange exchange) {
        String context = exchange.getHttpContext().getPath();
        String path = exchange.getRequestURI().getPath();
        if (path == null) {
            return false;
        }
        return path.equals(context) || (context.length() > 1 && context.endsWith("/") && path.startsWith(context));
    }

    /** Whether a request head announces a body (a malformed length counts: it is never parsed into a read). */
    static boolean announcesBody(Headers request) {
        if (request.containsKey("Transfer-Encoding")) {
            return true;
        }
        for (String length : request.getOrDefault("Content-Length", List.of())) {
            if (!length.trim().equals("0")) {
                return true;
            }
        }
        return false;
    }

    private static String shown(String host) {
        if (host == null) {
            return "none";
        }
        String cut = host.length() > 100 ? host.substring(0, 100) + "..." : host;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    /**
     * Answers and asks the connection to close, so a refused client does not keep it (and any
     * unread body bytes behind the head) for another request.
     */
    private static void refuse(HttpExchange exchange, int status, String text) throws IOException {
        exchange.getResponseHeaders().set("Connection", "close");
        if (text == null) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            byte[] body = (text + "\n").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            exchange.sendResponseHeaders(status, "HEAD".equals(exchange.getRequestMethod()) ? -1 : body.length);
            if (!"HEAD".equals(exchange.getRequestMethod())) {
                exchange.getResponseBody().write(body);
            }
        }
        exchange.close();
    }
}
