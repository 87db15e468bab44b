package io.gradguard.agent.runtime;

import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The endpoint's few daemon worker threads, each exchange under a deadline.
 *
 * <p>The JDK server reads a request head (and, when an exchange closes, up to 64 KiB of unread
 * body) with blocking reads on the worker thread, and has no per-request time limit unless the
 * JVM-wide {@code sun.net.httpserver.maxReqTime} is set. With two workers, two connections that
 * send half a head and wait would silence the endpoint for as long as they stay open. So an
 * exchange still running after the deadline has its thread interrupted: the JDK's socket channels
 * are interruptible, the blocked read fails, and the JDK closes that connection. No JVM-wide
 * property is set, so the job's own HTTP servers, if any, are untouched.
 */
final class EndpointWorkers implements Executor, AutoCloseable {

    private final ExecutorService workers;
    private final ScheduledExecutorService deadlines;
    private final long deadlineNanos;

    EndpointWorkers(int threads, Duration deadline) {
        this.workers = Executors.newFixedThreadPool(threads, daemon("gradguard-scrape"));
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, daemon("gradguard-scrape-deadline"));
        timer.setRemoveOnCancelPolicy(true); // a finished exchange leaves nothing behind in the queue
        this.deadlines = timer;
        this.deadlineNanos = deadline.toNanos();
    }

    @Override
    public void execute(Runnable exchange) {
        workers.execute(new Deadlined(exchange));
    }

    @Override
    public void close() {
        workers.shutdownNow();
        deadlines.shutdownNow();
    }

    /**
     * One exchange. The interrupt and the end of the exchange synchronise on this object, so an
     * interrupt can never land on the next exchange the same thread runs.
     */
    private final class Deadlined implements Runnable {

        private final Runnable exchange;
        private Thread runner;
        private boolean finished;

        Deadlined(Runnable exchange) {
            this.exchange = exchange;
        }

        @Override
        public void run() {
            synchronized (this) {
                runner = Thread.currentThread();
            }
            ScheduledFuture<?> deadline = deadlines.schedule(this::expire, deadlineNanos, TimeUnit.NANOSECONDS);
            try {
                exchange.run();
            } finally {
                deadline.cancel(false);
                synchronized (this) {
                    finished = true;
                    Thread.interrupted(); // clear an interrupt that came as the exchange ended
                }
            }
        }

        private synchronized void expire() {
            if (!finished && runner != null) {
                runner.interrupt();
            }
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
