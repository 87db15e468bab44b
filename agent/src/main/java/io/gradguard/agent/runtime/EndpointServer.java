package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import javax.net.ssl.SSLContext;

/**
 * The endpoint's HTTP/1.1 server: the JDK's {@code com.sun.net.httpserver} API (contexts, filters,
 * exchanges, so client_java's handlers and any other {@link HttpHandler} plug in unchanged), on an
 * accept loop and connection handling of its own, because the JDK's server can bound neither.
 *
 * <p>What a client can hold, and for how long (every figure is a constant here):
 * <ul>
 *   <li>at most {@link #MAX_CONNECTIONS} open connections, and never more than a quarter of the file
 *       descriptors the process had left when the endpoint started, so the job's own files always
 *       find one; more wait in the kernel's accept backlog without costing this process a
 *       descriptor, and a kept-alive connection that waits for its next request is closed first to
 *       make room;
 *   <li>a request head (and, over TLS, the handshake before it) must be complete
 *       {@link #HEAD_DEADLINE} after the connection was accepted, or after the first byte of a
 *       later request on it; a head is at most {@link #MAX_HEAD_BYTES}; no request body is ever read;
 *   <li>handlers run at most {@link #HANDLERS} at a time (scrapes never take more than a sliver of
 *       the CPU from training); a request waits at most {@link #HANDLER_WAIT} for one (then 503),
 *       and handling plus writing the response must end {@link #EXCHANGE_DEADLINE} after the head;
 *   <li>a kept-alive connection waits at most {@link #IDLE} for its next request.
 * </ul>
 * A connection past its deadline is closed by the {@code gradguard-scrape-deadline} thread, which
 * also ends a blocked read or write. A slow client therefore holds one connection thread for a
 * bounded time and never a handler, so honest scrapers are answered while it trickles. When the
 * process runs out of descriptors, accepting pauses {@link #ACCEPT_BACKOFF} between tries (one line
 * says so) instead of spinning.
 *
 * <p>Contexts match by longest path prefix as in the JDK; {@link EndpointRequestFilter} then keeps
 * only exact paths. Every thread is a daemon, so the job exits when training ends.
 */
final class EndpointServer extends HttpServer {

    static final int MAX_CONNECTIONS = 64;
    static final int HANDLERS = 2;
    static final Duration HEAD_DEADLINE = Duration.ofSeconds(5);
    static final Duration EXCHANGE_DEADLINE = Duration.ofSeconds(10);
    static final Duration HANDLER_WAIT = Duration.ofSeconds(5);
    static final Duration IDLE = Duration.ofSeconds(30);
    static final Duration ACCEPT_BACKOFF = Duration.ofMillis(100);
    static final int MAX_HEAD_BYTES = 8 * 1024;
    static final int MAX_HEADERS = 100;
    private static final int BACKLOG = 64;

    private final SSLContext tls;
    private final String[] tlsProtocols;
    private final List<EndpointContext> contexts = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final int maxConnections = EndpointAcceptor.connectionCap();
    private final Semaphore handlerSlots = new Semaphore(HANDLERS, true);
    private ServerSocket socket;
    private volatile EndpointAcceptor acceptor;

    /**
     * @param tls the TLS context, or null for plain HTTP
     * @param tlsProtocols the protocols a TLS connection may use
     */
    EndpointServer(SSLContext tls, String[] tlsProtocols) {
        this.tls = tls;
        this.tlsProtocols = tlsProtocols;
    }

    @Override
    public void bind(InetSocketAddress address, int backlog) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.bind(address, backlog > 0 ? backlog : BACKLOG);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        socket = s;
    }

    @Override
    public void start() {
        if (socket == null) {
            throw new IllegalStateException("bind first");
        }
        acceptor = new EndpointAcceptor(this, socket, tls, tlsProtocols, maxConnections);
        acceptor.start();
    }

    /** Handlers run on the connection threads under {@link #HANDLERS} slots; an executor is ignored. */
    @Override
    public void setExecutor(Executor executor) {}

    @Override
    public Executor getExecutor() {
        return null;
    }

    @Override
    public void stop(int delaySeconds) {
        EndpointAcceptor running = acceptor;
        if (running != null) {
            running.stop();
            return;
        }
        try {
            if (socket != null) {
                socket.close();
            }
        } catch (IOException ignored) {
            // closing: nothing to do about it
        }
    }

    @Override
    public HttpContext createContext(String path, HttpHandler handler) {
        EndpointContext context = (EndpointContext) createContext(path);
        context.setHandler(handler);
        return context;
    }

    @Override
    public HttpContext createContext(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new IllegalArgumentException("a context path starts with /: " + path);
        }
        for (EndpointContext c : contexts) {
            if (c.getPath().equals(path)) {
                throw new IllegalArgumentException("context already exists: " + path);
            }
        }
        EndpointContext context = new EndpointContext(path, this);
        contexts.add(context);
        return context;
    }

    @Override
    public void removeContext(String path) {
        if (!contexts.removeIf(c -> c.getPath().equals(path))) {
            throw new IllegalArgumentException("no context " + path);
        }
    }

    @Override
    public void removeContext(HttpContext context) {
        contexts.remove(context);
    }

    @Override
    public InetSocketAddress getAddress() {
        return (InetSocketAddress) socket.getLocalSocketAddress();
    }

    /** @return the cap on open connections (see the class comment) */
    int maxConnections() {
        return maxConnections;
    }

    /** The context whose path is the longest prefix of {@code path}, or null. */
    EndpointContext contextFor(String path) {
        EndpointContext best = null;
        for (EndpointContext c : contexts) {
            if (path.startsWith(c.getPath())
                    && (best == null || c.getPath().length() > best.getPath().length())) {
                best = c;
            }
        }
        return best;
    }

    Semaphore handlerSlots() {
        return handlerSlots;
    }

    /** Closes quietly; a socket being closed by its peer or the watchdog is no news. */
    static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed or reset
        }
    }

    /** Whether a failure is the end of a connection rather than a fault of the server. */
    static boolean connectionEnded(IOException e) {
        return e instanceof SocketException
                || e instanceof java.io.EOFException
                || e instanceof javax.net.ssl.SSLException;
    }
}
