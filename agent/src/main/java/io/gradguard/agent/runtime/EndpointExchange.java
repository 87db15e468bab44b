package io.gradguard.agent.runtime;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpPrincipal;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One request and its response on an {@link EndpointConnection}. Bodies: a request body is never
 * read ({@link #getRequestBody()} is empty); a response has a fixed length ({@code length > 0}), is
 * chunked ({@code 0}) or has none ({@code -1}), and a HEAD response never carries one.
 */
final class EndpointExchange extends HttpExchange {

    private static final Map<Integer, String> REASONS = Map.ofEntries(
            Map.entry(200, "OK"),
            Map.entry(204, "No Content"),
            Map.entry(304, "Not Modified"),
            Map.entry(400, "Bad Request"),
            Map.entry(401, "Unauthorized"),
            Map.entry(403, "Forbidden"),
            Map.entry(404, "Not Found"),
            Map.entry(405, "Method Not Allowed"),
            Map.entry(413, "Content Too Large"),
            Map.entry(421, "Misdirected Request"),
            Map.entry(500, "Internal Server Error"),
            Map.entry(503, "Service Unavailable"));

    private final EndpointConnection.RequestHead head;
    private final HttpContext context;
    private final OutputStream connectionOut;
    private final Socket socket;
    private final Headers responseHeaders = new Headers();
    private final Map<String, Object> attributes = new ConcurrentHashMap<>();
    private final EndpointResponseBody body;
    private InputStream requestBody = InputStream.nullInputStream();
    private OutputStream responseBody;
    private boolean keepAlive;
    private int status = -1;
    private boolean closed;

    EndpointExchange(
            EndpointConnection.RequestHead head,
            HttpContext context,
            OutputStream out,
            Socket socket,
            boolean keepAlive) {
        this.head = head;
        this.context = context;
        this.connectionOut = out;
        this.body = new EndpointResponseBody(out, this::failed);
        this.socket = socket;
        this.keepAlive = keepAlive;
        this.responseBody = body;
    }

    static String reason(int status) {
        return REASONS.getOrDefault(status, "Status");
    }

    @Override
    public Headers getRequestHeaders() {
        return head.headers();
    }

    @Override
    public Headers getResponseHeaders() {
        return responseHeaders;
    }

    @Override
    public URI getRequestURI() {
        return head.uri();
    }

    @Override
    public String getRequestMethod() {
        return head.method();
    }

    @Override
    public HttpContext getHttpContext() {
        return context;
    }

    @Override
    public InputStream getRequestBody() {
        return requestBody;
    }

    @Override
    public OutputStream getResponseBody() {
        return responseBody;
    }

    @Override
    public void sendResponseHeaders(int code, long length) throws IOException {
        if (status >= 0) {
            throw new IOException("response headers already sent");
        }
        status = code;
        boolean headRequest = "HEAD".equals(head.method());
        String connection = responseHeaders.getFirst("Connection");
        if (connection != null && connection.toLowerCase(java.util.Locale.ROOT).contains("close")) {
            keepAlive = false;
        }
        responseHeaders.remove("Transfer-Encoding");
        if (length > 0) {
            responseHeaders.set("Content-Length", Long.toString(length));
            body.fixed(length, headRequest);
        } else if (length == 0) {
            if (headRequest) {
                body.none();
            } else {
                responseHeaders.remove("Content-Length");
                responseHeaders.set("Transfer-Encoding", "chunked");
                body.chunked();
            }
        } else {
            if (!headRequest) {
                responseHeaders.set("Content-Length", "0");
            }
            body.none();
        }
        if (!keepAlive) {
            responseHeaders.set("Connection", "close");
        }
        StringBuilder out = new StringBuilder(256)
                .append("HTTP/1.1 ")
                .append(code)
                .append(' ')
                .append(reason(code))
                .append("\r\n");
        for (Map.Entry<String, List<String>> h : responseHeaders.entrySet()) {
            for (String v : h.getValue()) {
                // A header value with a line break would let a handler's input split the response.
                out.append(h.getKey())
                        .append(": ")
                        .append(v.replace('\r', ' ').replace('\n', ' '))
                        .append("\r\n");
            }
        }
        out.append("\r\n");
        connectionOut.write(out.toString().getBytes(StandardCharsets.ISO_8859_1));
        if (length == -1 || headRequest) {
            connectionOut.flush();
        }
    }

    boolean headersSent() {
        return status >= 0;
    }

    boolean keepAlive() {
        return keepAlive;
    }

    /** The handler failed: whatever was sent, the connection is not reused. */
    void failed() {
        keepAlive = false;
    }

    @Override
    public InetSocketAddress getRemoteAddress() {
        return (InetSocketAddress) socket.getRemoteSocketAddress();
    }

    @Override
    public int getResponseCode() {
        return status;
    }

    @Override
    public InetSocketAddress getLocalAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    @Override
    public String getProtocol() {
        return head.protocol();
    }

    @Override
    public Object getAttribute(String name) {
        return attributes.get(name);
    }

    @Override
    public void setAttribute(String name, Object value) {
        if (value == null) {
            attributes.remove(name);
        } else {
            attributes.put(name, value);
        }
    }

    @Override
    public void setStreams(InputStream in, OutputStream out) {
        if (in != null) {
            requestBody = in;
        }
        if (out != null) {
            responseBody = out;
        }
    }

    @Override
    public HttpPrincipal getPrincipal() {
        return null;
    }

    /**
     * Ends the exchange: a handler that sent nothing gets a 500, a fixed-length body cut short
     * closes the connection (the client would otherwise wait for the rest), and the response is
     * flushed. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (status < 0) {
                keepAlive = false;
                sendResponseHeaders(500, -1);
            }
            if (responseBody != body) {
                responseBody.close(); // a filter's wrapper (gzip, say) writes its end into ours
            }
            body.close();
            connectionOut.flush();
        } catch (IOException e) {
            keepAlive = false;
        }
    }
}
