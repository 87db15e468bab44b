package io.gradguard.core.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The agent's whole, validated configuration: one value for every key of its {@link
 * ConfigSchema}, from agent args, {@code gradguard.<key>} system properties, {@code
 * GRADGUARD_<KEY>} environment variables, the YAML file or the key's default, in that order of
 * precedence. Immutable; built by {@link ConfigLoader}.
 *
 * <p>Typed access is {@link #get(ConfigKey)}; the agent's own keys also have accessors.
 */
public final class GradGuardConfig {

    /** The prefix of the keys a hot reload of the file may change. */
    static final String RELOADABLE_PREFIX = "policy.";

    private final ConfigSchema schema;
    private final Map<String, Object> values;
    private final Map<String, RawValue> given;
    private final List<ConfigProblem> problems;
    private final Set<Part> unusable;
    private final String fileDigest;

    GradGuardConfig(
            ConfigSchema schema,
            Map<String, Object> values,
            Map<String, RawValue> given,
            List<ConfigProblem> problems) {
        this(schema, values, given, problems, null);
    }

    private GradGuardConfig(
            ConfigSchema schema,
            Map<String, Object> values,
            Map<String, RawValue> given,
            List<ConfigProblem> problems,
            String fileDigest) {
        this.fileDigest = fileDigest;
        this.schema = schema;
        this.values = Collections.unmodifiableMap(new HashMap<>(values));
        this.given = Map.copyOf(given);
        this.problems = List.copyOf(problems);
        Set<Part> parts = EnumSet.noneOf(Part.class);
        for (ConfigProblem p : problems) {
            if (!p.warning() && p.part() != Part.MONITORING) {
                parts.add(p.part());
            }
        }
        this.unusable = Collections.unmodifiableSet(parts);
    }

    /**
     * The value of a key.
     *
     * @param key a key of this configuration's schema
     * @param <T> its type
     * @return the value; null for an optional key that is off
     * @throws IllegalArgumentException for a key the schema does not know
     */
    @SuppressWarnings("unchecked")
    public <T> T get(ConfigKey<T> key) {
        if (!values.containsKey(key.name())) {
            throw new IllegalArgumentException("not a key of this configuration: " + key.name());
        }
        return (T) values.get(key.name());
    }

    /**
     * Whether a source set the key (as opposed to its default applying).
     *
     * @param key the key
     * @return true when agent args, a property, the environment or the file set it
     */
    public boolean isSet(ConfigKey<?> key) {
        return given.containsKey(key.name());
    }

    /**
     * Where a key was set, for messages.
     *
     * @param key the key
     * @return e.g. {@code agent args}, {@code g.yml line 3}; {@code default} when no source set it
     */
    public String origin(ConfigKey<?> key) {
        RawValue raw = given.get(key.name());
        return raw == null ? "default" : raw.origin();
    }

    /** @return the schema this configuration was loaded with */
    public ConfigSchema schema() {
        return schema;
    }

    /**
     * Settings that could not be used when the agent started (empty after a strict load): each
     * switched off its own part.
     *
     * @return the problems, in the order found
     */
    public List<ConfigProblem> problems() {
        return problems;
    }

    /**
     * Whether any problem, error or warning, concerns protection: the job then does not get the
     * protection its settings asked for, which the agent says loudly at start and at exit.
     *
     * @return true when a protection setting could not be used as written
     */
    public boolean protectionAsWrittenFails() {
        return problems.stream().anyMatch(p -> p.part() == Part.PROTECTION);
    }

    /**
     * Whether a part of the agent must stay off because one of its settings could not be used.
     *
     * @param part the part
     * @return true when a problem belongs to it
     */
    public boolean unusable(Part part) {
        return unusable.contains(part);
    }

    /**
     * This configuration with the reloadable keys ({@code policy.*}) of another: what a hot reload
     * of the file changes while the job runs. Problems of the policy or of the file found at start
     * are mended by it.
     *
     * @param next the configuration read from the edited file
     * @return a copy with the policy settings of {@code next}
     */
    public GradGuardConfig withPolicyFrom(GradGuardConfig next) {
        Map<String, Object> v = new HashMap<>(values);
        Map<String, RawValue> g = new HashMap<>(given);
        for (ConfigKey<?> key : schema.keys()) {
            String name = key.name();
            if (name.startsWith(RELOADABLE_PREFIX)) {
                v.put(name, next.values.get(name));
                g.remove(name);
                if (next.given.containsKey(name)) {
                    g.put(name, next.given.get(name));
                }
            }
        }
        // The edited file parsed and validated: what was wrong with the policy or the file is mended.
        List<ConfigProblem> still = problems.stream()
                .filter(p -> !p.key().startsWith(RELOADABLE_PREFIX) && !p.key().equals(Keys.CONFIG.name()))
                .toList();
        return new GradGuardConfig(schema, v, g, still, fileDigest);
    }

    /** This configuration, remembering the content of the file it was read from. */
    GradGuardConfig withFileDigest(String digest) {
        return new GradGuardConfig(schema, values, given, problems, digest);
    }

    /** The digest of the file's content this configuration was read from; null when none was read. */
    String fileDigest() {
        return fileDigest;
    }

    /** @return scrape endpoint port; 0 = none; {@link Keys#AUTO_PORT} = auto */
    public int port() {
        return get(Keys.PORT);
    }

    /** @return the address the endpoint binds */
    public String host() {
        return get(Keys.HOST);
    }

    /** @return the value of the {@code run} label */
    public String run() {
        return get(Keys.RUN);
    }

    /** @return the allow-list of per-parameter series */
    public Pattern parameters() {
        return get(Keys.PARAMETERS);
    }

    /** @return the cap on per-parameter series */
    public int maxParameters() {
        return get(Keys.MAX_PARAMETERS);
    }

    /** @return seconds between console summary lines; 0 = off */
    public int summarySeconds() {
        return get(Keys.SUMMARY);
    }

    /** @return weight norms, update ratios and max |g| every N steps; 0 = never */
    public int updateRatioEvery() {
        return get(Keys.UPDATE_RATIO_EVERY);
    }

    /** @return the non-finite action */
    public NonFiniteAction onNonfinite() {
        return get(Keys.ON_NONFINITE);
    }

    /** @return skipped steps in a row after which the agent says so loudly; 0 = no limit */
    public int maxConsecutiveSkips() {
        return get(Keys.MAX_CONSECUTIVE_SKIPS);
    }

    /** @return whether reaching {@link #maxConsecutiveSkips()} fails the job */
    public boolean failOnMaxSkips() {
        return get(Keys.FAIL_ON_MAX_SKIPS);
    }

    /** @return the YAML file, or null */
    public Path configFile() {
        return get(Keys.CONFIG);
    }

    /** @return the step log, or null */
    public Path log() {
        return get(Keys.LOG);
    }

    /** @return the step log's rotation size */
    public long logMaxBytes() {
        return get(Keys.LOG_MAX_BYTES);
    }

    /** @return the Pushgateway's {@code HOST:PORT}, or null */
    public String pushgateway() {
        return get(Keys.PUSHGATEWAY);
    }

    /** @return seconds between pushes */
    public int pushIntervalSeconds() {
        return get(Keys.PUSH_INTERVAL);
    }

    /** @return the basic-auth credentials file, or null */
    public Path authFile() {
        return get(Keys.AUTH_FILE);
    }

    /** @return the PKCS12 keystore, or null for plain HTTP */
    public Path tlsKeystore() {
        return get(Keys.TLS_KEYSTORE);
    }

    /** @return the environment variable holding the keystore password, or null */
    public String tlsPasswordEnv() {
        return get(Keys.TLS_PASSWORD_ENV);
    }
}
