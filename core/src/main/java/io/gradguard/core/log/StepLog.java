package io.gradguard.core.log;

import io.gradguard.core.console.Console;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The {@code log=FILE} step log: one JSON object per optimizer step, one line each (JSON Lines),
 * so that a job that crashes leaves a record of every step it took.
 *
 * <p><b>Never waits.</b> {@link #append} only puts the record in a bounded queue
 * ({@value #QUEUE_CAPACITY} records) and returns; the agent's own daemon thread
 * {@code gradguard-step-log} opens the file, encodes and writes. A reader of a FIFO that stops
 * reading, a full disk or a hung network file system therefore block that thread only: once the
 * queue is full, records are dropped and counted (the caller's {@code problems} listener hears of
 * every drop), and training goes on at full speed. Nothing on the caller's side shares a lock with
 * the writer, so {@link #close} (from a shutdown hook) waits at most {@value #CLOSE_WAIT_MILLIS} ms.
 *
 * <p><b>Durability.</b> Every record is handed to the operating system with one {@code write(2)}
 * of its own, normally within microseconds of {@link #append}. A crash of the process (an
 * exception, a native abort in PyTorch, the OOM killer, {@code kill -9}) loses the records still
 * in the queue and at most the one being written; every record counted by {@link #written()} is
 * in the file, complete. There is no {@code fsync}: it only protects against a crash of the whole
 * machine, which would lose the training state anyway.
 *
 * <p><b>Links.</b> The final component of the path is opened with {@code O_NOFOLLOW}: a symbolic
 * link planted in a shared directory cannot make a privileged job append to a file the link points
 * at. {@code log_follow_symlinks=true} allows links. Directories on the way are followed.
 *
 * <p><b>Rotation.</b> When a record would take the file past {@code maxBytes}, the file is renamed
 * to {@code FILE.1} (an older {@code FILE.1} becomes {@code FILE.2}, an older {@code FILE.2} is
 * deleted) and a new {@code FILE} is started: at most {@value #KEPT_FILES} files, about
 * {@value #KEPT_FILES}·maxBytes on disk. A single record larger than {@code maxBytes} still goes
 * whole into a file of its own. Something that is not a regular file (a FIFO) is never rotated.
 *
 * <p><b>Failures.</b> A file that cannot be opened, or the first failed write, prints one line,
 * {@code [gradguard] step log FILE failed: REASON; step logging off}, is handed to the listener
 * once, and turns the log off. {@link #append} never throws.
 */
public final class StepLog implements AutoCloseable {

    /** Files kept by rotation: {@code FILE}, {@code FILE.1}, {@code FILE.2}. */
    public static final int KEPT_FILES = 3;

    /** Records that may wait for the writer: seconds of steps, about a megabyte. */
    public static final int QUEUE_CAPACITY = 4096;

    /** Longest {@link #close} waits for the writer to write what is queued. */
    public static final long CLOSE_WAIT_MILLIS = 2000;

    private final Path file;
    private final Consumer<RuntimeException> problems;
    private final ArrayBlockingQueue<StepRecord> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final AtomicLong dropped = new AtomicLong();
    private final RuntimeException droppedProblem;
    private final Thread writer;

    private volatile boolean closing;
    private volatile boolean off;
    private volatile IOException failure;
    private volatile long written;

    // Owned by the writer thread alone.
    private final StepLogFile out;

    private StepLog(Path file, long maxBytes, boolean followSymlinks, Consumer<RuntimeException> problems) {
        this.file = file;
        this.out = new StepLogFile(file, maxBytes, followSymlinks);
        this.problems = problems;
        this.droppedProblem = new QuietException("step log " + file + ": the writer is " + QUEUE_CAPACITY
                + " records behind (a stalled reader or slow storage); records are dropped, training goes on");
        this.writer = new Thread(this::write, "gradguard-step-log");
        writer.setDaemon(true);
    }

    /**
     * Starts the step log: returns at once; the writer thread creates missing parent directories
     * and opens (creates, or appends to) the file.
     *
     * @param file the log file
     * @param maxBytes the size at which the file is rotated; must be positive
     * @param followSymlinks whether a symbolic link as the last component of {@code file} is followed
     * @param problems hears of every dropped record and of the failure that turns the log off
     * @return the log
     */
    public static StepLog open(Path file, long maxBytes, boolean followSymlinks, Consumer<RuntimeException> problems) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        StepLog log = new StepLog(file.toAbsolutePath(), maxBytes, followSymlinks, problems);
        log.writer.start();
        return log;
    }

    /**
     * {@link #open(Path, long, boolean, Consumer)} without following links and without a listener.
     *
     * @param file the log file
     * @param maxBytes the size at which the file is rotated; must be positive
     * @return the log
     */
    public static StepLog open(Path file, long maxBytes) {
        return open(file, maxBytes, false, e -> {});
    }

    /**
     * Queues one record for the writer; never blocks and never throws. When the queue is full the
     * record is dropped and the listener hears of it.
     *
     * @param r the step's record
     */
    public void append(StepRecord r) {
        if (off || closing) {
            return;
        }
        if (!queue.offer(r)) {
            if (dropped.getAndIncrement() == 0) {
                Console.warn(
                        droppedProblem.getMessage() + "; counted in gradguard_agent_errors_total{where=\"step_log\"}");
            }
            problems.accept(droppedProblem);
        }
    }

    /**
     * Whether the log still writes: false after an I/O failure or {@link #close}.
     *
     * @return true while records are written
     */
    public boolean active() {
        return !off && !closing;
    }

    /**
     * The failure that turned the log off, if any.
     *
     * @return the first I/O failure, or null
     */
    public IOException failure() {
        return failure;
    }

    /**
     * Records handed to the operating system so far.
     *
     * @return the count; each of them is in the file, complete
     */
    public long written() {
        return written;
    }

    /**
     * Records dropped because the writer was behind.
     *
     * @return the count
     */
    public long dropped() {
        return dropped.get();
    }

    /**
     * The file being written.
     *
     * @return the absolute path of the current log file
     */
    public Path file() {
        return file;
    }

    /**
     * Lets the writer write what is queued and close the file, waiting at most
     * {@value #CLOSE_WAIT_MILLIS} ms; a writer still blocked then is left behind (a daemon, it does
     * not keep the JVM alive) with one line. Later appends are ignored.
     */
    @Override
    public void close() {
        closing = true;
        try {
            writer.join(CLOSE_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (writer.isAlive()) {
            Console.warn("step log " + file + ": the writer is still blocked after " + CLOSE_WAIT_MILLIS
                    + " ms (a stalled reader or storage); " + queue.size() + " records not written; not waiting");
        }
    }

    /** The writer thread: opens the file, then writes records until closed and drained. */
    private void write() {
        try {
            out.open();
        } catch (IOException | RuntimeException e) {
            turnOff(e);
            return;
        }
        try {
            while (true) {
                StepRecord r = queue.poll(100, TimeUnit.MILLISECONDS);
                if (r == null) {
                    if (closing) {
                        break;
                    }
                    continue;
                }
                out.write(r);
                written++;
            }
        } catch (IOException | RuntimeException e) {
            turnOff(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            out.closeQuietly();
        }
    }

    private void turnOff(Exception e) {
        IOException io = e instanceof IOException ? (IOException) e : new IOException(e.toString(), e);
        failure = io;
        off = true;
        queue.clear();
        out.closeQuietly();
        String reason = io.getMessage() == null ? io.toString() : io.getMessage();
        Console.info("step log " + file + " failed: " + reason + "; step logging off");
        problems.accept(new java.io.UncheckedIOException("step log " + file + " failed: " + reason, io));
    }

    /** One instance per log, handed to the listener at every drop: no stack trace to fill in. */
    private static final class QuietException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        QuietException(String message) {
            super(message, null, false, false);
        }
    }
}
