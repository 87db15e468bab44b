package io.gradguard.core.recorder;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Keys;
import io.gradguard.core.config.Part;
import io.gradguard.core.console.Console;
import io.gradguard.core.metrics.AgentErrors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes the flight recorder's incident files, one per incident, on a daemon thread of its own fed
 * by a bounded queue: the training thread never touches the file system (not even to check the
 * directory, which a hung network mount would turn into a stalled step); it only offers, and a
 * full queue drops the incident (or its update), says so once and counts it in {@code
 * gradguard_agent_errors_total{where="incidents"}}.
 *
 * <p><b>Files.</b> {@code incident-MODEL-RUN-stepN.json} in {@code incidents.dir}, created there
 * (the directory too, at the first incident) with {@code O_EXCL} semantics: an existing file or a
 * link planted under the name is never opened, another name is taken. Updates of an open incident
 * are written to a temporary file in the same directory and renamed over it (a reader sees the old
 * or the new file, never half of one), at most once a second per incident, the latest summary
 * winning; the rename replaces a link put in its place instead of following it, and a file found
 * replaced by a link is left alone. A directory that is a symbolic link is refused. At most
 * {@value #MAX_FILES} files per JVM.
 *
 * <p><b>Failures.</b> A directory that cannot be used gives one line, from the writer's thread
 * as the agent starts, or at the first write that fails, and no incident files from then on;
 * every incident lost is counted. The job runs on.
 */
public final class IncidentWriter implements AutoCloseable {

    /** Incidents and updates waiting at most. */
    static final int QUEUE = 16;
    /** Incident files per JVM at most. */
    static final int MAX_FILES = 100;

    private static final long REWRITE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long CLOSE_MILLIS = 3000;

    private final Path dir;
    private final AgentErrors errors;
    private final BlockingQueue<Incident> queue;
    private final AtomicInteger filesOpened = new AtomicInteger();
    private final IncidentDirectory directory;
    /** Put in the queue by {@link #close()} to wake the thread at once. */
    private static final Incident STOP = new Incident(null, null, 0, 0, null, null, null, null, null, null, null, null);

    private final Thread thread;
    private final String configured;
    private volatile boolean closing;
    private volatile boolean broken;

    /** A writer whose thread is not started: tests hold it to fill the queue. */
    IncidentWriter(Path dir, AgentErrors errors, int capacity) {
        this(dir, dir.toString(), errors, capacity);
    }

    private IncidentWriter(Path dir, String configured, AgentErrors errors, int capacity) {
        this.dir = dir;
        this.directory = new IncidentDirectory(dir);
        this.configured = configured;
        this.errors = errors;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.thread = new Thread(this::run, "gradguard-incidents");
        thread.setDaemon(true);
    }

    /**
     * The writer of a configuration, its thread started: it checks the directory first (one line
     * if it cannot be used). Returns at once, without touching the file system.
     *
     * @param config the agent's configuration
     * @param errors where dropped incidents and failed writes are counted
     * @return the writer, or null when {@code incidents.dir=off} or a setting of the recorder could
     *     not be read (said at start)
     */
    public static IncidentWriter open(GradGuardConfig config, AgentErrors errors) {
        Optional<Path> configured = config.unusable(Part.INCIDENTS) ? Optional.empty() : config.get(Keys.INCIDENTS_DIR);
        if (configured.isEmpty()) {
            return null;
        }
        IncidentWriter writer = new IncidentWriter(
                configured.get().toAbsolutePath().normalize(), configured.get().toString(), errors, QUEUE);
        writer.thread.start();
        return writer;
    }

    /** @return the directory the files go to */
    public Path directory() {
        return dir;
    }

    /**
     * Queues a new incident's file; called by the flight recorder's sink, never blocks.
     *
     * @param incident the incident
     * @return whether it is queued (false: dropped and counted, or past the cap); its counter runs
     *     once the file exists
     */
    boolean open(Incident incident) {
        if (broken || closing) {
            errors.count("incidents");
            return false;
        }
        if (filesOpened.incrementAndGet() > MAX_FILES) {
            Console.once(
                    "incidents-cap",
                    "flight recorder: " + MAX_FILES + " incident files written in this JVM; no"
                            + " more are written (the incidents still show in the step log and the metrics)");
            return false;
        }
        incident.queued.set(true);
        if (!queue.offer(incident)) {
            incident.queued.set(false);
            incident.abandoned = true;
            dropped();
            return false;
        }
        return true;
    }

    /**
     * Says an open incident's summary changed: its file is rewritten soon. Never blocks.
     *
     * @param incident the incident
     */
    void changed(Incident incident) {
        if (incident.abandoned || broken) {
            return;
        }
        if (incident.queued.compareAndSet(false, true) && !queue.offer(incident)) {
            incident.queued.set(false);
            dropped();
        }
    }

    private void dropped() {
        errors.count("incidents");
        Console.once(
                "incidents-queue",
                "flight recorder: " + QUEUE + " incident writes waiting; an incident or its"
                        + " update was dropped (counted in gradguard_agent_errors_total{where=\"incidents\"})");
    }

    /** Starts a writer made by the tests' constructor. */
    void start() {
        thread.start();
    }

    /** At exit: what is queued is written at once (summaries as they are now), within a few seconds. */
    @Override
    public void close() {
        closing = true;
        if (!thread.isAlive()) {
            return;
        }
        LockSupport.unpark(thread); // out of a wait between two rewrites
        queue.offer(STOP); // a full queue needs no wake-up: the thread sees closing when it is empty
        try {
            thread.join(CLOSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void run() {
        String problem = IncidentDirectory.problem(dir);
        if (problem != null) {
            broken = true;
            Console.info("incidents.dir " + configured + " " + problem + "; no incident files (set incidents.dir to a"
                    + " writable directory, or incidents.dir=off)");
        }
        while (true) {
            Incident next;
            try {
                next = closing ? queue.poll() : queue.poll(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (next == null) {
                if (closing) {
                    return; // everything queued before and after the stop is written
                }
            } else if (next != STOP) {
                write(next);
            }
        }
    }

    private void write(Incident incident) {
        if (incident.file != null) {
            long wait;
            while (!closing && (wait = incident.lastWriteNanos + REWRITE_NANOS - System.nanoTime()) > 0) {
                LockSupport.parkNanos(this, wait); // changes meanwhile only replace the summary written below
            }
        }
        incident.queued.set(false);
        if (incident.abandoned) {
            return;
        }
        if (broken) {
            if (incident.file == null) {
                errors.count("incidents"); // queued before the directory failed: lost too
            }
            incident.abandoned = true;
            return;
        }
        Incident.Summary summary = incident.summary();
        byte[] bytes = IncidentJson.render(incident, summary).getBytes(StandardCharsets.UTF_8);
        try {
            if (incident.file == null) {
                directory.create(incident, bytes);
                incident.lastWriteNanos = System.nanoTime();
                incident.counter.run();
                said(incident, summary);
            } else {
                directory.replace(incident, bytes);
                incident.lastWriteNanos = System.nanoTime();
            }
        } catch (IOException | RuntimeException e) {
            incident.abandoned = true;
            errors.count("incidents");
            if (e instanceof IncidentDirectory.LinkFound) {
                Console.info("flight recorder: " + e.getMessage() + "; it is not updated");
            } else {
                broken = true;
                Console.info("flight recorder: cannot write incident files in " + dir + " (" + e + "); no incident"
                        + " files from now on (set incidents.dir to a writable directory, or incidents.dir=off)");
            }
        }
    }

    private void said(Incident incident, Incident.Summary summary) {
        Incident.Offender first = incident.firstOffender;
        int followers = summary.followers().size();
        String offender = first == null
                ? "no parameter left its band"
                : String.format(
                                Locale.ROOT,
                                "first offender %s (gradient norm %.4g at step %d, its band up to %.4g)",
                                first.parameter(),
                                first.norm(),
                                first.step(),
                                first.upper())
                        + (followers == 0 ? "" : ", then " + followers + " more");
        Console.info("incident: " + incident.model + " step " + incident.step + " (" + incident.trigger + "): "
                + offender + "; written to " + incident.file
                + " (read it with: java -jar gradguard-agent.jar report FILE)");
        if (incident.listener != null) {
            try {
                incident.listener.accept(new IncidentNotice(
                        incident.model,
                        incident.step,
                        incident.trigger,
                        incident.file,
                        first == null ? null : first.parameter()));
            } catch (RuntimeException e) {
                errors.record("incidents", e); // the file is written; only the notice failed
            }
        }
    }
}
