package io.gradguard.core.config;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Hot reload of the YAML policy file, polled by the engine on the training thread at every step.
 *
 * <p>No thread of its own (threads compete with PyTorch's): {@link #poll()} reads the clock and
 * returns at once unless {@code pollIntervalMillis} have passed; then it compares the file's
 * modification time, size and file key (a new inode after an editor's rename-on-save) with what
 * it saw last, and parses only when they differ. An edited file that validates yields the new
 * configuration, merged exactly as at start: agent args, system properties and environment still
 * win over the file. A file that does not validate is rejected with one line on stderr and the
 * previous configuration stays in force.
 *
 * <p>Counts are exposed for {@code gradguard_config_reloads_total{result}}, e.g. with Micrometer's
 * {@code FunctionCounter.builder(name, watcher, PolicyFileWatcher::acceptedReloads)}; they are
 * written by the training thread only and are volatile so that a scrape thread may read them.
 *
 * <p>Not thread-safe: call {@link #poll()} from one thread.
 */
public final class PolicyFileWatcher {

    /** Default minimum time between two looks at the file. */
    public static final long DEFAULT_POLL_INTERVAL_MILLIS = 500;

    private final Path file;
    private final ConfigSources sources;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private final PrintStream errors;

    private GradGuardConfig current;
    private FileState lastSeen;
    private long lastCheckNanos;
    private volatile long accepted;
    private volatile long rejected;
    private long parses;

    /** What decides whether the file changed; {@code missing} while it cannot be read. */
    private record FileState(long modifiedNanos, long size, Object fileKey) {
        static final FileState MISSING = new FileState(Long.MIN_VALUE, -1, null);
    }

    /**
     * Watches {@code lastGood.configFile()} with the default poll interval.
     *
     * @param lastGood the configuration in force; must name a file
     * @param sources the settings that win over the file, as read at start
     */
    public PolicyFileWatcher(GradGuardConfig lastGood, ConfigSources sources) {
        this(lastGood, sources, DEFAULT_POLL_INTERVAL_MILLIS, System::nanoTime, System.err);
    }

    PolicyFileWatcher(
            GradGuardConfig lastGood,
            ConfigSources sources,
            long pollIntervalMillis,
            LongSupplier nanoClock,
            PrintStream errors) {
        this.current = Objects.requireNonNull(lastGood, "lastGood");
        this.file = Objects.requireNonNull(lastGood.configFile(), "lastGood.configFile(): no config file to watch");
        if (pollIntervalMillis < 0) {
            throw new IllegalArgumentException("pollIntervalMillis < 0: " + pollIntervalMillis);
        }
        this.sources = sources;
        this.intervalNanos = pollIntervalMillis * 1_000_000L;
        this.nanoClock = nanoClock;
        this.errors = errors;
        this.lastSeen = stat(file);
        this.lastCheckNanos = nanoClock.getAsLong();
    }

    /**
     * Looks at the file if the poll interval has passed, and re-reads it if it changed.
     *
     * @return the new configuration after an accepted edit; empty when nothing changed, when it is
     *     too early to look, or when the edit was rejected
     */
    public Optional<GradGuardConfig> poll() {
        long now = nanoClock.getAsLong();
        if (now - lastCheckNanos < intervalNanos) {
            return Optional.empty();
        }
        lastCheckNanos = now;
        FileState state = stat(file);
        if (state.equals(lastSeen)) {
            return Optional.empty();
        }
        lastSeen = state;
        parses++;
        try {
            ConfigSchema schema = current.schema();
            Map<String, RawValue> fileValues = YamlConfigFile.read(schema, file);
            // The run label must not change under a running job, so the old one is the default.
            GradGuardConfig next = ConfigLoader.mergeReload(schema, sources, fileValues, file, current.run());
            current = next;
            accepted++;
            return Optional.of(next);
        } catch (ConfigException e) {
            reject(e.getMessage().substring("gradguard: ".length()));
        } catch (RuntimeException e) {
            reject("unexpected " + e.getClass().getSimpleName());
        }
        return Optional.empty();
    }

    private void reject(String reason) {
        rejected++;
        errors.println("[gradguard] config reload rejected: " + ConfigException.oneLine(reason)
                + "; keeping the previous policy");
    }

    private static FileState stat(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            long modified = attributes.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS);
            return new FileState(modified, attributes.size(), attributes.fileKey());
        } catch (IOException | SecurityException e) {
            return FileState.MISSING;
        }
    }

    /**
     * The configuration in force: the last accepted one.
     *
     * @return the last good configuration
     */
    public GradGuardConfig current() {
        return current;
    }

    /**
     * Edits that validated and were returned by {@link #poll()}.
     *
     * @return the count since construction
     */
    public long acceptedReloads() {
        return accepted;
    }

    /**
     * Edits that did not validate (including a file that vanished).
     *
     * @return the count since construction
     */
    public long rejectedReloads() {
        return rejected;
    }

    /** How often the file was actually parsed, so tests can prove an unchanged file costs no parse. */
    long parses() {
        return parses;
    }
}
