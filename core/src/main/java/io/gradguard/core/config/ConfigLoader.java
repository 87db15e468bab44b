package io.gradguard.core.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds the validated {@link GradGuardConfig} from agent args, {@code gradguard.<key>} system
 * properties, {@code GRADGUARD_<KEY>} environment variables and the YAML file named by
 * {@code config}; the first of these that sets a key wins, then the defaults apply.
 * {@link #helpText()} documents every key.
 */
public final class ConfigLoader {

    private static final List<String> NON_FINITE_ACTIONS = List.of("skip", "zero", "none", "fail");
    private static final DateTimeFormatter RUN_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

    private ConfigLoader() {}

    /**
     * Loads and validates the configuration.
     *
     * @param agentArgs the {@code -javaagent:jar=...} string: {@code key=value} pairs separated by
     *     commas; null or empty for none
     * @param systemProperties the JVM's system properties; only {@code gradguard.*} ones are read
     * @param environment the process environment; only {@code GRADGUARD_*} variables are read, plus
     *     the one named by {@code tls_password_env}
     * @return the validated configuration
     * @throws ConfigException with a one-line message naming the key, the value and the fix
     */
    public static GradGuardConfig load(
            String agentArgs, Map<String, String> systemProperties, Map<String, String> environment) {
        ConfigSources sources = ConfigSources.of(agentArgs, systemProperties, environment);
        Path configFile = configFile(sources);
        Map<String, RawValue> fileValues = configFile == null ? Map.of() : YamlConfigFile.read(configFile);
        return merge(sources, fileValues, configFile, generatedRunId());
    }

    /**
     * Whether the agent args ask for the help text instead of a configuration.
     *
     * @param agentArgs the {@code -javaagent:jar=...} string, may be null
     * @return true for {@code help}, {@code -h} or {@code --help}
     */
    public static boolean isHelp(String agentArgs) {
        if (agentArgs == null) {
            return false;
        }
        String trimmed = agentArgs.trim().toLowerCase(Locale.ROOT);
        return trimmed.equals("help") || trimmed.equals("--help") || trimmed.equals("-h");
    }

    /**
     * The JVM's system properties as the string map {@link #load} takes; both the agent's start and
     * its runtime read them this way.
     *
     * @return a snapshot of {@code System.getProperties()}
     */
    public static Map<String, String> systemProperties() {
        Map<String, String> out = new java.util.HashMap<>();
        System.getProperties().forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        return out;
    }

    /**
     * The user documentation printed for {@code -javaagent:gradguard.jar=help}: the sources and
     * their precedence, and every key with its default and accepted values.
     *
     * @return multi-line text ending in a line break
     */
    public static String helpText() {
        return ConfigKeys.helpText();
    }

    static Path configFile(ConfigSources sources) {
        RawValue raw = sources.overrides().get("config");
        if (raw == null || Values.isOff(raw)) {
            return null;
        }
        return Values.path(raw);
    }

    static String generatedRunId() {
        return "run-" + LocalDateTime.now().format(RUN_TIME) + "-"
                + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
    }

    /** The merge that start and every reload share: overrides win over the file, then defaults. */
    static GradGuardConfig merge(
            ConfigSources sources, Map<String, RawValue> fileValues, Path configFile, String defaultRun) {
        Map<String, RawValue> values = new HashMap<>(fileValues);
        values.putAll(sources.overrides());
        values.remove("config");
        Settings s = new Settings(values);

        int port = s.port();
        String host = s.text("host", "127.0.0.1", 255);
        if (host.chars().anyMatch(Character::isWhitespace)) {
            throw Values.invalid(values.get("host"), "holds whitespace; use a host name or IP address");
        }
        String run = s.text("run", defaultRun, 128);
        java.util.regex.Pattern parameters =
                values.containsKey("parameters") ? Values.regex(values.get("parameters")) : java.util.regex.Pattern.compile(".*");
        int maxParameters = s.integer("max_parameters", 500, 0, Integer.MAX_VALUE);
        int summary = s.integer("summary", 10, 0, Integer.MAX_VALUE);
        int updateRatioEvery = s.integer("update_ratio_every", 100, 0, Integer.MAX_VALUE);
        PolicyConfig policy = policy(s);
        NonFiniteAction onNonfinite = values.containsKey("on_nonfinite")
                ? NonFiniteAction.valueOf(Values.oneOf(values.get("on_nonfinite"), NON_FINITE_ACTIONS, "an on_nonfinite action")
                        .toUpperCase(Locale.ROOT))
                : NonFiniteAction.SKIP;
        int maxConsecutiveSkips = s.integer("max_consecutive_skips", 0, 0, Integer.MAX_VALUE);
        boolean failOnMaxSkips = values.containsKey("fail_on_max_skips") && Values.bool(values.get("fail_on_max_skips"));
        DetectorConfig detectorDefaults = DetectorConfig.defaults();
        DetectorConfig detector = new DetectorConfig(
                s.positive("detector.spike_z", detectorDefaults.spikeZ()),
                s.nonNegative("detector.vanishing_threshold", detectorDefaults.vanishingThreshold()),
                s.integer("detector.vanishing_steps", detectorDefaults.vanishingSteps(), 1, Integer.MAX_VALUE),
                detectorDefaults.alpha(),
                detectorDefaults.warmupSteps());
        Path log = s.optionalPath("log", false);
        long logMaxBytes = values.containsKey("log_max_bytes")
                ? Values.bytes(values.get("log_max_bytes"), 1024, ConfigKeys.BY_NAME.get("log_max_bytes").accepted())
                : 64L * 1024 * 1024;
        String pushgateway = s.hostAndPort("pushgateway");
        int pushInterval = s.integer("push_interval", 15, 1, 86_400);
        Path authFile = s.optionalPath("auth_file", true);
        Path tlsKeystore = s.optionalPath("tls_keystore", true);
        RawValue passwordRaw = values.get("tls_password_env");
        String tlsPasswordEnv = passwordRaw == null || Values.isOff(passwordRaw) ? null : Values.environmentName(passwordRaw);
        sources.rejectUnknownEnvironment(tlsPasswordEnv);
        if (tlsKeystore != null) {
            if (tlsPasswordEnv == null) {
                throw Values.invalid(values.get("tls_keystore"),
                        "needs tls_password_env, the name of the environment variable that holds its password");
            }
            if (sources.environment().get(tlsPasswordEnv) == null) {
                throw Values.invalid(passwordRaw,
                        "names an environment variable that is not set; export it with the keystore password");
            }
        } else {
            tlsPasswordEnv = null; // a password variable without a keystore means nothing
        }
        return new GradGuardConfig(port, host, run, parameters, maxParameters, summary, updateRatioEvery, policy,
                onNonfinite, maxConsecutiveSkips, failOnMaxSkips, detector, configFile, log, logMaxBytes, pushgateway,
                pushInterval, authFile, tlsKeystore, tlsPasswordEnv);
    }

    private static PolicyConfig policy(Settings s) {
        String type = s.values.containsKey("policy.type")
                ? Values.oneOf(s.values.get("policy.type"), PolicyConfig.TYPES, "a policy")
                : "none";
        PolicyConfig d = PolicyConfig.defaults(type);
        return new PolicyConfig(
                type,
                s.positive("policy.max_norm", d.maxNorm()),
                s.normType("policy.norm_type", d.normType()),
                s.positive("policy.clip_value", d.clipValue()),
                s.positive("policy.lambda", d.lambda()),
                s.percentile("policy.percentile", d.percentile()),
                s.integer("policy.history", d.history(), 1, 1_000_000),
                s.positive("policy.z_threshold", d.zThreshold()),
                s.openUnit("policy.alpha", d.alpha()),
                s.integer("policy.warmup_steps", d.warmupSteps(), 1, Integer.MAX_VALUE));
    }

    /** Typed look-ups with defaults over the merged raw values. */
    private record Settings(Map<String, RawValue> values) {

        private String accepted(String key) {
            return ConfigKeys.BY_NAME.get(key).accepted();
        }

        int integer(String key, int fallback, int min, int max) {
            RawValue raw = values.get(key);
            return raw == null ? fallback : (int) Values.integer(raw, min, max, accepted(key));
        }

        double positive(String key, double fallback) {
            RawValue raw = values.get(key);
            return raw == null ? fallback : Values.positive(raw);
        }

        double nonNegative(String key, double fallback) {
            RawValue raw = values.get(key);
            if (raw == null) {
                return fallback;
            }
            double value = Values.number(raw, accepted(key));
            if (value < 0) {
                throw Values.invalid(raw, "must be >= 0");
            }
            return value;
        }

        double openUnit(String key, double fallback) {
            RawValue raw = values.get(key);
            if (raw == null) {
                return fallback;
            }
            double value = Values.number(raw, accepted(key));
            if (!(value > 0 && value < 1)) {
                throw Values.invalid(raw, "must be in (0, 1), e.g. 0.97");
            }
            return value;
        }

        double percentile(String key, double fallback) {
            RawValue raw = values.get(key);
            if (raw == null) {
                return fallback;
            }
            double value = Values.number(raw, accepted(key));
            if (!(value > 0 && value <= 100)) {
                throw Values.invalid(raw, "must be in (0, 100], e.g. 10");
            }
            return value;
        }

        double normType(String key, double fallback) {
            RawValue raw = values.get(key);
            if (raw == null) {
                return fallback;
            }
            String text = raw.text() == null ? "" : raw.text().trim().toLowerCase(Locale.ROOT);
            switch (text) {
                case "inf", ".inf", "infinity", "+inf", "+.inf", "max" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "2", "2.0", "2.", "l2" -> {
                    return 2.0;
                }
                default -> throw Values.invalid(raw, "is not a supported norm; use 2 or inf");
            }
        }

        String text(String key, String fallback, int maxLength) {
            RawValue raw = values.get(key);
            if (raw == null) {
                return fallback;
            }
            if (raw.text() == null || raw.text().isBlank()) {
                throw Values.invalid(raw, "is empty; use " + accepted(key));
            }
            String text = raw.text().trim();
            if (text.length() > maxLength || text.chars().anyMatch(Character::isISOControl)) {
                throw Values.invalid(raw, "is not usable; use " + accepted(key) + " without control characters");
            }
            return text;
        }

        int port() {
            RawValue raw = values.get("port");
            if (raw == null) {
                return 9404;
            }
            if (raw.text() != null && raw.text().trim().equalsIgnoreCase("auto")) {
                return GradGuardConfig.AUTO_PORT;
            }
            return (int) Values.integer(raw, 0, 65_535, accepted("port"));
        }

        Path optionalPath(String key, boolean mustBeReadable) {
            RawValue raw = values.get(key);
            if (raw == null || Values.isOff(raw)) {
                return null;
            }
            Path path = Values.path(raw);
            if (mustBeReadable && !Files.isReadable(path)) {
                throw Values.invalid(raw, "is not a readable file; check the path and its permissions");
            }
            return path;
        }

        String hostAndPort(String key) {
            RawValue raw = values.get(key);
            if (raw == null || Values.isOff(raw)) {
                return null;
            }
            String text = raw.text().trim();
            if (text.contains("://")) {
                throw Values.invalid(raw, "must be HOST:PORT without a scheme, e.g. pushgateway:9091");
            }
            int colon = text.lastIndexOf(':');
            String host = colon < 0 ? "" : text.substring(0, colon);
            String port = colon < 0 ? "" : text.substring(colon + 1);
            boolean hostOk = !host.isEmpty() && host.chars().noneMatch(c -> Character.isWhitespace(c)
                    || Character.isISOControl(c) || c == '/');
            if (!hostOk || !port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65_535) {
                throw Values.invalid(raw, "is not HOST:PORT; use e.g. pushgateway:9091 or [::1]:9091");
            }
            return text;
        }
    }
}
