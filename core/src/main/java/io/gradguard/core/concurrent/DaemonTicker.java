package io.gradguard.core.concurrent;

import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A daemon thread of the agent's own that runs one task at a fixed delay for the life of the JVM,
 * started by the first {@link #ensureStarted} (so that a JVM that never trains never has it).
 */
public final class DaemonTicker {

    private final String name;
    private final long millis;
    private final Runnable task;
    private volatile boolean started;

    /**
     * @param name the thread's name, as a thread dump shows it
     * @param millis the delay between the end of one run and the start of the next
     * @param task what to run; what it throws loses that run, never the thread
     */
    public DaemonTicker(String name, long millis, Runnable task) {
        this.name = name;
        this.millis = millis;
        this.task = task;
    }

    /** Starts the thread unless it runs already. */
    public void ensureStarted() {
        if (started) {
            return;
        }
        synchronized (this) {
            if (started) {
                return;
            }
            Executors.newSingleThreadScheduledExecutor(r -> {
                        Thread t = new Thread(r, name);
                        t.setDaemon(true);
                        return t;
                    })
                    .scheduleWithFixedDelay(this::runQuietly, millis, millis, TimeUnit.MILLISECONDS);
            started = true;
        }
    }

    private void runQuietly() {
        try {
            task.run();
        } catch (RuntimeException | LinkageError e) {
            // the next run goes on
        }
    }
}
