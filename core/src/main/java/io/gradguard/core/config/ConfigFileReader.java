package io.gradguard.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Reads a configuration file without letting the file stop, slow or bloat the thread that asked.
 *
 * <p>Only a regular file is read (a FIFO would block the open until some process writes to it, and
 * {@code /dev/zero} never ends), at most {@link #MAX_BYTES} of it, and always on a daemon thread of
 * its own: the caller waits at most {@link #TIMEOUT_MILLIS} for it, so a FIFO renamed over the file
 * between the check and the open, or a network file system that stopped answering, costs the
 * caller that wait once and nothing more. A read still blocked is left to finish on its thread; at
 * most {@link #MAX_BLOCKED} such threads exist, after which reads are refused at once.
 */
final class ConfigFileReader {

    /** A policy file is a few hundred bytes; anything this large is a mistake, not a config. */
    static final int MAX_BYTES = 1 << 20;

    /** Longest a caller waits for a read. */
    static final long TIMEOUT_MILLIS = 2000;

    /** Reads that may hang at once, each on its own parked thread. */
    static final int MAX_BLOCKED = 4;

    private static final AtomicInteger IN_FLIGHT = new AtomicInteger();
    // Cached: the watcher's reads every half second reuse one idle thread; a blocked read keeps its own.
    private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "gradguard-config-read");
        t.setDaemon(true);
        return t;
    });

    private ConfigFileReader() {}

    /**
     * The file's bytes.
     *
     * @param file the file that {@code config} names
     * @return its content, at most {@link #MAX_BYTES}
     * @throws ConfigException one line naming the file, why it cannot be used and the fix
     */
    static byte[] read(Path file) {
        String shown = "config=" + Values.shown(file.toString());
        if (IN_FLIGHT.get() >= MAX_BLOCKED) {
            throw new ConfigException(shown + " is not read: " + MAX_BLOCKED + " earlier reads of it are still blocked"
                    + " (a FIFO, or storage that does not answer); replace it with a regular file");
        }
        IN_FLIGHT.incrementAndGet();
        Future<byte[]> read;
        try {
            read = READERS.submit(() -> {
                try {
                    return readNow(file, shown);
                } finally {
                    IN_FLIGHT.decrementAndGet();
                }
            });
        } catch (RuntimeException e) {
            IN_FLIGHT.decrementAndGet();
            throw new ConfigException(shown + " cannot be read (" + e.getClass().getSimpleName() + ")");
        }
        try {
            return read.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ConfigException(shown + " could not be read within " + TIMEOUT_MILLIS + " ms (a FIFO, or storage"
                    + " that does not answer); point config at a regular file on local storage");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof ConfigException c) {
                throw c;
            }
            throw new ConfigException(
                    shown + " cannot be read (" + e.getCause().getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigException(shown + " was not read: the thread was interrupted");
        }
    }

    private static byte[] readNow(Path file, String shown) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            if (!attributes.isRegularFile()) {
                String kind = attributes.isDirectory() ? "a directory" : "a FIFO, socket or device";
                throw new ConfigException(shown + " is " + kind + ", not a regular file; point config at a YAML file");
            }
            if (attributes.size() > MAX_BYTES) {
                throw tooLarge(shown, attributes.size());
            }
            try (InputStream in = Files.newInputStream(file)) {
                // One byte more than allowed: a file that grew since the check is caught, never read whole.
                byte[] bytes = in.readNBytes(MAX_BYTES + 1);
                if (bytes.length > MAX_BYTES) {
                    throw tooLarge(shown, bytes.length);
                }
                return bytes;
            }
        } catch (IOException | SecurityException e) {
            throw new ConfigException(shown + " cannot be read (" + e.getClass().getSimpleName()
                    + "); check the path and its permissions");
        }
    }

    /**
     * What tells one content from another.
     *
     * @param bytes the file's content
     * @return its SHA-256, in hex
     */
    static String digest(byte[] bytes) {
        try {
            return java.util.HexFormat.of()
                    .formatHex(
                            java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    private static ConfigException tooLarge(String shown, long size) {
        return new ConfigException(
                shown + " is " + size + " bytes or more; a config file must be under " + MAX_BYTES + " bytes");
    }
}
