package io.gradguard.agent.runtime;

import io.gradguard.core.console.Console;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;

/**
 * The endpoint's accept loop and open connections: at most the server's cap of connections (a
 * kept-alive idle one gives way when full), each on a connection thread, closed by the {@code
 * gradguard-scrape-deadline} watchdog past its deadline; a pause between tries when accepting fails.
 */
final class EndpointAcceptor {

    private static final long WATCH_EVERY_MILLIS = 100;

    private final EndpointServer server;
    private final ServerSocket socket;
    private final SSLContext tls;
    private final String[] tlsProtocols;
    private final Set<EndpointConnection> open = ConcurrentHashMap.newKeySet();
    private final Semaphore connectionSlots;
    private final ExecutorService connectionThreads = Executors.newCachedThreadPool(daemon("gradguard-scrape"));
    private final ScheduledExecutorService watchdog =
            Executors.newSingleThreadScheduledExecutor(daemon("gradguard-scrape-deadline"));
    private volatile boolean stopped;
    private volatile String acceptProblem;

    EndpointAcceptor(
            EndpointServer server, ServerSocket socket, SSLContext tls, String[] tlsProtocols, int maxConnections) {
        this.server = server;
        this.socket = socket;
        this.tls = tls;
        this.tlsProtocols = tlsProtocols;
        this.connectionSlots = new Semaphore(maxConnections);
    }

    void start() {
        watchdog.scheduleWithFixedDelay(
                this::expireDeadlines, WATCH_EVERY_MILLIS, WATCH_EVERY_MILLIS, TimeUnit.MILLISECONDS);
        daemon("gradguard-endpoint").newThread(this::acceptLoop).start();
    }

    void stop() {
        stopped = true;
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing: nothing to do about it
        }
        open.forEach(EndpointConnection::abort);
        connectionThreads.shutdownNow();
        watchdog.shutdownNow();
    }

    /** {@link EndpointServer#MAX_CONNECTIONS}, or a quarter of the descriptors left if that is fewer (at least 4). */
    static int connectionCap() {
        try {
            java.lang.management.OperatingSystemMXBean os =
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
                long left = unix.getMaxFileDescriptorCount() - unix.getOpenFileDescriptorCount();
                if (left / 4 < EndpointServer.MAX_CONNECTIONS) {
                    int cap = (int) Math.max(4, left / 4);
                    Console.info("metrics endpoint: at most " + cap + " connections at a time (a quarter of the " + left
                            + " file descriptors this process has left)");
                    return cap;
                }
            }
        } catch (LinkageError | RuntimeException e) {
            // A runtime without jdk.management: the fixed cap alone.
        }
        return EndpointServer.MAX_CONNECTIONS;
    }

    private void acceptLoop() {
        while (!stopped) {
            try {
                if (!connectionSlots.tryAcquire()) {
                    // Full: a kept-alive connection waiting for its next request gives way first.
                    open.stream().filter(EndpointConnection::idle).findFirst().ifPresent(EndpointConnection::abort);
                    while (!connectionSlots.tryAcquire(WATCH_EVERY_MILLIS, TimeUnit.MILLISECONDS)) {
                        if (stopped) {
                            return;
                        }
                    }
                }
            } catch (InterruptedException e) {
                return;
            }
            Socket accepted;
            try {
                accepted = socket.accept();
            } catch (IOException e) {
                connectionSlots.release();
                if (stopped || socket.isClosed()) {
                    return;
                }
                backOff(e);
                continue;
            }
            if (acceptProblem != null) {
                Console.info("metrics endpoint accepts connections again (after: " + acceptProblem + ")");
                acceptProblem = null;
            }
            EndpointConnection connection = new EndpointConnection(
                    server, accepted, tls, tlsProtocols, System.nanoTime() + EndpointServer.HEAD_DEADLINE.toNanos());
            open.add(connection);
            try {
                connectionThreads.execute(() -> {
                    try {
                        connection.run();
                    } finally {
                        open.remove(connection);
                        connectionSlots.release();
                    }
                });
            } catch (RejectedExecutionException e) {
                open.remove(connection);
                connection.abort();
                connectionSlots.release();
            }
        }
    }

    /**
     * Out of descriptors (or another accept failure): the listening socket stays ready, so retrying
     * at once would spin a core. One line per kind of failure, then a pause between tries.
     */
    private void backOff(IOException e) {
        String problem = String.valueOf(e.getMessage());
        if (!problem.equals(acceptProblem)) {
            acceptProblem = problem;
            Console.warn("metrics endpoint cannot accept connections (" + problem + "); retrying every "
                    + EndpointServer.ACCEPT_BACKOFF.toMillis() + " ms");
        }
        try {
            Thread.sleep(EndpointServer.ACCEPT_BACKOFF.toMillis());
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            stopped = true;
        }
    }

    private void expireDeadlines() {
        long now = System.nanoTime();
        List<EndpointConnection> expired = new ArrayList<>();
        for (EndpointConnection c : open) {
            if (c.expired(now)) {
                expired.add(c);
            }
        }
        expired.forEach(EndpointConnection::abort);
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
