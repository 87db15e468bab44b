package io.gradguard.agent.runtime;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.Headers;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * One accepted connection of {@link EndpointServer}, on its own thread: the TLS handshake if any,
 * then request after request (HTTP/1.1 keep-alive) until the client closes, a request asks to
 * close, or a deadline passes. Its single deadline is read by the server's watchdog, which closes
 * the socket when it passes; every blocked read or write then fails and the thread ends.
 */
final class EndpointConnection {

    private enum Phase {
        HEAD,
        EXCHANGE,
        IDLE
    }

    private final EndpointServer server;
    private final Socket raw;
    private final SSLContext tls;
    private final String[] tlsProtocols;
    private volatile Socket socket;
    private volatile long deadlineNanos;
    private volatile Phase phase = Phase.HEAD;

    EndpointConnection(EndpointServer server, Socket raw, SSLContext tls, String[] tlsProtocols, long headDeadline) {
        this.server = server;
        this.raw = raw;
        this.socket = raw;
        this.tls = tls;
        this.tlsProtocols = tlsProtocols;
        this.deadlineNanos = headDeadline; // from accept: a handshake or head that trickles counts from here
    }

    boolean idle() {
        return phase == Phase.IDLE;
    }

    boolean expired(long now) {
        return now - deadlineNanos > 0;
    }

    /** Closes the connection from another thread; what its thread was blocked in fails. */
    void abort() {
        EndpointServer.closeQuietly(socket);
        EndpointServer.closeQuietly(raw);
    }

    void run() {
        try {
            raw.setTcpNoDelay(true);
            if (tls != null) {
                SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(raw, null, raw.getPort(), true);
                ssl.setUseClientMode(false);
                ssl.setEnabledProtocols(tlsProtocols);
                socket = ssl;
                ssl.startHandshake();
            }
            InputStream in = new BufferedInputStream(socket.getInputStream(), 4096);
            OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
            boolean first = true;
            while (true) {
                int firstByte;
                if (first) {
                    firstByte = in.read();
                } else {
                    phase = Phase.IDLE;
                    deadlineNanos = System.nanoTime() + EndpointServer.IDLE.toNanos();
                    firstByte = in.read();
                    phase = Phase.HEAD;
                    deadlineNanos = System.nanoTime() + EndpointServer.HEAD_DEADLINE.toNanos();
                }
                if (firstByte < 0) {
                    return;
                }
                first = false;
                RequestHead head;
                try {
                    head = RequestHead.read(in, firstByte);
                } catch (BadRequest e) {
                    refuse(out, e.status, e.getMessage());
                    return;
                }
                phase = Phase.EXCHANGE;
                deadlineNanos = System.nanoTime() + EndpointServer.EXCHANGE_DEADLINE.toNanos();
                if (!exchange(head, out)) {
                    return;
                }
            }
        } catch (IOException | RuntimeException e) {
            // The client went away, sent something that is not HTTP (or not TLS), or a deadline passed.
        } finally {
            abort();
        }
    }

    /** Runs one exchange; returns whether the connection may carry another request. */
    private boolean exchange(RequestHead head, OutputStream out) throws IOException {
        EndpointContext context = server.contextFor(
                head.uri().getPath() == null ? "/" : head.uri().getPath());
        if (context == null || context.getHandler() == null) {
            refuse(out, 404, null);
            return false;
        }
        // A body is never read: a request that announces one leaves the connection unusable after it.
        boolean keepAlive = head.keepAlive() && !head.announcesBody();
        EndpointExchange exchange = new EndpointExchange(head, context, out, raw, keepAlive);
        boolean slot;
        try {
            slot = server.handlerSlots().tryAcquire(EndpointServer.HANDLER_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            slot = false;
        }
        if (!slot) {
            refuse(out, 503, "busy");
            return false;
        }
        try {
            new Filter.Chain(context.getFilters(), context.getHandler()).doFilter(exchange);
        } catch (IOException | RuntimeException e) {
            exchange.failed();
            if (!exchange.headersSent()) {
                exchange.sendResponseHeaders(500, -1);
            }
        } finally {
            server.handlerSlots().release();
        }
        exchange.close();
        return exchange.keepAlive();
    }

    /** A response the server gives itself, ending the connection. */
    private static void refuse(OutputStream out, int status, String text) throws IOException {
        byte[] body = text == null ? new byte[0] : (text + "\n").getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + EndpointExchange.reason(status) + "\r\nContent-Length: "
                + body.length + "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
        out.write(head.getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    /** A request the server answers itself, with this status, and then closes. */
    static final class BadRequest extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** A parsed request line and headers. */
    record RequestHead(String method, URI uri, String protocol, Headers headers, int bytes) {

        /**
         * Reads a head of at most {@link EndpointServer#MAX_HEAD_BYTES}, byte by byte from a buffered
         * stream, so nothing after it (the next pipelined request) is consumed.
         */
        static RequestHead read(InputStream in, int firstByte) throws IOException {
            byte[] buf = new byte[EndpointServer.MAX_HEAD_BYTES];
            int n = 0;
            int b = firstByte;
            while (true) {
                if (b < 0) {
                    throw new java.io.EOFException("connection closed inside a request head");
                }
                if (n == buf.length) {
                    throw new BadRequest(400, "request head over " + EndpointServer.MAX_HEAD_BYTES + " bytes");
                }
                buf[n++] = (byte) b;
                if (b == '\n' && (endsWith(buf, n, "\r\n\r\n") || endsWith(buf, n, "\n\n"))) {
                    break;
                }
                b = in.read();
            }
            String text = new String(buf, 0, n, StandardCharsets.ISO_8859_1);
            String[] lines = text.split("\r?\n");
            String[] request = lines[0].split(" ", -1);
            if (request.length != 3 || request[0].isEmpty() || !request[2].startsWith("HTTP/1.")) {
                throw new BadRequest(400, "not an HTTP/1.x request line");
            }
            for (int i = 0; i < request[0].length(); i++) {
                if (request[0].charAt(i) < 'A' || request[0].charAt(i) > 'Z') {
                    throw new BadRequest(400, "not an HTTP method");
                }
            }
            URI uri;
            try {
                uri = new URI(request[1]);
            } catch (URISyntaxException e) {
                throw new BadRequest(400, "not a valid request target");
            }
            Headers headers = new Headers();
            int count = 0;
            for (int i = 1; i < lines.length; i++) {
                String line = lines[i];
                if (line.isEmpty()) {
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon <= 0
                        || line.charAt(0) == ' '
                        || line.charAt(0) == '\t'
                        || ++count > EndpointServer.MAX_HEADERS) {
                    throw new BadRequest(400, "malformed or too many header lines");
                }
                headers.add(
                        line.substring(0, colon).trim(),
                        line.substring(colon + 1).trim());
            }
            return new RequestHead(request[0], uri, request[2], headers, n);
        }

        private static boolean endsWith(byte[] buf, int n, String end) {
            if (n < end.length()) {
                return false;
            }
            for (int i = 0; i < end.length(); i++) {
                if (buf[n - end.length() + i] != end.charAt(i)) {
                    return false;
                }
            }
            return true;
        }

        boolean keepAlive() {
            String connection = headers.getFirst("Connection");
            boolean close =
                    connection != null && connection.toLowerCase(Locale.ROOT).contains("close");
            return protocol.equals("HTTP/1.1") && !close;
        }

        boolean announcesBody() {
            return EndpointRequestFilter.announcesBody(headers);
        }
    }
}
