package io.gradguard.core.config;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Hot reload of the YAML policy file, polled by one thread (the agent's {@code gradguard-config}
 * daemon, never a training thread: a poll reads the file).
 *
 * <p>{@link #poll()} reads the clock and returns at once unless {@code pollIntervalMillis} have
 * passed; then it reads the file through {@link ConfigFileReader} (a regular file only, bounded in
 * size and in time) and compares a digest of its content with the last content it judged. A change
 * is told by content, not by modification time or size: an edit that keeps the size and restores
 * the time is seen, and so is a file that could not be read while it was edited (after
 * {@code chmod 000}, an edit, {@code chmod 644}) once it can be read again.
 *
 * <p>A new content is merged exactly as at start: agent args, system properties and environment
 * still win over the file. Only what a reload applies is validated, the {@code policy.*} keys: an
 * edit whose policy does not validate is rejected with one line on stderr, the previous
 * configuration stays in force. Any other key only takes effect at the next start, and its
 * problems (an {@code auth_file} that has since disappeared) or changes ({@code port}) are said
 * once and do not stop the reload. A file that cannot be read is rejected once per distinct reason.
 *
 * <p>Counts are exposed for {@code gradguard_config_reloads_total{result}}, e.g. with Micrometer's
 * {@code FunctionCounter.builder(name, watcher, PolicyFileWatcher::acceptedReloads)}; they are
 * written by the polling thread only and are volatile so that a scrape thread may read them.
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
    private final Set<String> said = new HashSet<>();
    /** What the job runs with for every key a reload does not apply. */
    private final GradGuardConfig atStart;

    private volatile GradGuardConfig current;
    private String judgedDigest;
    private String readProblem;
    private long lastCheckNanos;
    private volatile long accepted;
    private volatile long rejected;
    private long parses;

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
        this.atStart = lastGood;
        this.file = Objects.requireNonNull(lastGood.configFile(), "lastGood.configFile(): no config file to watch");
        if (pollIntervalMillis < 0) {
            throw new IllegalArgumentException("pollIntervalMillis < 0: " + pollIntervalMillis);
        }
        this.sources = sources;
        this.intervalNanos = pollIntervalMillis * 1_000_000L;
        this.nanoClock = nanoClock;
        this.errors = errors;
        // The content the configuration in force was read from was judged at start.
        this.judgedDigest = lastGood.fileDigest();
        this.lastCheckNanos = nanoClock.getAsLong();
    }

    /**
     * Looks at the file if the poll interval has passed, and judges its content if it changed.
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
        byte[] bytes;
        try {
            bytes = ConfigFileReader.read(file);
        } catch (ConfigException e) {
            // Once per reason: a file unreadable for an hour is one rejection, not one per poll.
            String reason = reason(e);
            if (!reason.equals(readProblem)) {
                readProblem = reason;
                reject(reason);
            }
            return Optional.empty();
        }
        readProblem = null;
        String digest = ConfigFileReader.digest(bytes);
        if (digest.equals(judgedDigest)) {
            return Optional.empty();
        }
        judgedDigest = digest;
        parses++;
        try {
            ConfigSchema schema = current.schema();
            Map<String, RawValue> fileValues = YamlConfigFile.parse(schema, bytes, file);
            // The run label must not change under a running job, so the old one is the default.
            GradGuardConfig next = ConfigLoader.merge(
                            schema, sources, fileValues, file, current.run(), false, List.of())
                    .withFileDigest(digest);
            for (ConfigProblem p : next.problems()) {
                if (!p.warning() && p.key().startsWith(GradGuardConfig.RELOADABLE_PREFIX)) {
                    reject(reason(p.message()));
                    return Optional.empty();
                }
            }
            sayWhatWaitsForTheNextStart(next, fileValues);
            current = next;
            accepted++;
            return Optional.of(next);
        } catch (ConfigException e) {
            reject(reason(e));
        } catch (RuntimeException e) {
            reject("unexpected " + e.getClass().getSimpleName());
        }
        return Optional.empty();
    }

    /**
     * A reload applies {@code policy.*} only: the file's other settings, changed or unusable, are
     * said once each, and wait for the next start.
     */
    private void sayWhatWaitsForTheNextStart(GradGuardConfig next, Map<String, RawValue> fileValues) {
        for (ConfigProblem p : next.problems()) {
            if (!p.warning() && fileValues.containsKey(p.key()) && said.add("problem " + p.message())) {
                errors.println("[gradguard] config reload: " + reason(p.message()) + "; " + p.key()
                        + " is not applied while the job runs (only policy.* is), so the reload goes on");
            }
        }
        for (ConfigKey<?> key : next.schema().keys()) {
            String name = key.name();
            if (name.startsWith(GradGuardConfig.RELOADABLE_PREFIX) || key == Keys.RUN || key == Keys.CONFIG) {
                continue;
            }
            String was = String.valueOf(atStart.get(key));
            String now = String.valueOf(next.get(key));
            if (!was.equals(now) && said.add("change " + name + "=" + now)) {
                errors.println("[gradguard] config reload: " + name + " is now " + Values.shown(now) + " in " + file
                        + " (in force: " + Values.shown(was) + "); only policy.* changes while the job runs, " + name
                        + " applies at the next start");
            }
        }
    }

    private static String reason(ConfigException e) {
        return reason(e.getMessage());
    }

    private static String reason(String message) {
        return message.startsWith("gradguard: ") ? message.substring("gradguard: ".length()) : message;
    }

    private void reject(String reason) {
        rejected++;
        errors.println("[gradguard] config reload rejected: " + ConfigException.oneLine(reason)
                + "; keeping the previous policy");
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
