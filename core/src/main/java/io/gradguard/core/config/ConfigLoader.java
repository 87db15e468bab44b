package io.gradguard.core.config;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Builds a {@link GradGuardConfig} from agent args, {@code gradguard.<key>} system properties,
 * {@code GRADGUARD_<KEY>} environment variables and the YAML file named by {@code config}; the
 * first of these that sets a key wins, then the key's declared default applies.
 *
 * <p>Two modes. {@link #load} is strict: the first unusable setting is thrown as a one-line {@link
 * ConfigException} (tests, and every reload of the file, which is then rejected whole). {@link
 * #loadForStart} never throws for a setting: each unusable one is a {@link ConfigProblem} that
 * switches off its own part of the agent, and the key takes its default.
 */
public final class ConfigLoader {

    private static final DateTimeFormatter RUN_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

    private ConfigLoader() {}

    /**
     * Loads and validates the configuration; any problem is fatal.
     *
     * @param schema the keys to read
     * @param agentArgs {@code key=value} pairs separated by commas; null or empty for none
     * @param systemProperties the JVM's system properties; only {@code gradguard.*} ones are read
     * @param environment the process environment; only {@code GRADGUARD_*} variables are read
     * @return the validated configuration
     * @throws ConfigException with a one-line message naming the key, the value and the fix
     */
    public static GradGuardConfig load(
            ConfigSchema schema,
            String agentArgs,
            Map<String, String> systemProperties,
            Map<String, String> environment) {
        return load(schema, ConfigSources.of(schema, agentArgs, systemProperties, environment), true);
    }

    /**
     * Loads the configuration the agent starts with: an unusable setting does not stop the agent,
     * it is reported in {@link GradGuardConfig#problems()} and switches off its own part.
     *
     * @param schema the keys to read
     * @param sources the settings that win over the file, read once
     * @return the configuration
     */
    public static GradGuardConfig loadForStart(ConfigSchema schema, ConfigSources sources) {
        return load(schema, sources, false);
    }

    private static GradGuardConfig load(ConfigSchema schema, ConfigSources sources, boolean strict) {
        List<ConfigProblem> problems = new ArrayList<>(sources.problems());
        Map<String, RawValue> fileValues = Map.of();
        Path file = null;
        String digest = null;
        try {
            file = configFile(sources);
            if (file != null) {
                byte[] bytes = ConfigFileReader.read(file);
                digest = ConfigFileReader.digest(bytes);
                fileValues = YamlConfigFile.parse(schema, bytes, file);
            }
        } catch (ConfigException e) {
            problems.add(ConfigProblem.of(e, Keys.CONFIG.name(), Keys.CONFIG.part()));
        }
        if (strict && !problems.isEmpty()) {
            throw new ConfigException(problems.get(0).message().substring("gradguard: ".length()));
        }
        // The watcher compares later contents with this one, so what was judged at start is not judged again.
        return merge(schema, sources, fileValues, file, generatedRunId(), strict, problems)
                .withFileDigest(digest);
    }

    /**
     * The merge that start and every reload share: overrides win over the file, then defaults.
     *
     * @param strict whether the first problem is thrown
     * @param problems problems found before the merge, to which it adds (non-strict only)
     */
    static GradGuardConfig merge(
            ConfigSchema schema,
            ConfigSources sources,
            Map<String, RawValue> fileValues,
            Path configFile,
            String defaultRun,
            boolean strict,
            List<ConfigProblem> problems) {
        Map<String, RawValue> given = new HashMap<>(fileValues);
        given.putAll(sources.overrides());
        given.remove(Keys.CONFIG.name());
        Map<String, Object> values = new HashMap<>();
        List<ConfigProblem> found = new ArrayList<>(problems);
        for (ConfigKey<?> key : schema.keys()) {
            RawValue raw = given.get(key.name());
            Object value = key.defaultValue();
            if (raw != null) {
                try {
                    value = key.parse(raw);
                } catch (ConfigException e) {
                    if (strict) {
                        throw e;
                    }
                    found.add(ConfigProblem.of(e, key.name(), key.part()));
                    given.remove(key.name());
                }
            }
            values.put(key.name(), value);
        }
        List<ConfigProblem> strayVariables = sources.unknownEnvironment(
                schema, java.util.Arrays.asList((String) values.get(Keys.TLS_PASSWORD_ENV.name()), (String)
                        values.get(OtlpKeys.HEADERS_ENV.name())));
        if (strict && !strayVariables.isEmpty()) {
            throw new ConfigException(strayVariables.get(0).message().substring("gradguard: ".length()));
        }
        found.addAll(strayVariables);
        values.put(Keys.CONFIG.name(), configFile);
        if (!given.containsKey(Keys.RUN.name())) {
            values.put(Keys.RUN.name(), defaultRun);
        }
        GradGuardConfig config = new GradGuardConfig(schema, values, given, found);
        List<ConfigProblem> broken = new ArrayList<>(Keys.endpointProblems(config, sources.environment()));
        broken.addAll(OtlpKeys.problems(config, sources.environment()));
        broken.addAll(schema.check(config));
        for (ConfigProblem p : broken) {
            if (strict && !p.warning()) {
                throw new ConfigException(p.message().substring("gradguard: ".length()));
            }
        }
        if (strict || broken.isEmpty()) {
            return config;
        }
        found.addAll(broken);
        return new GradGuardConfig(schema, values, given, found);
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
     * The JVM's system properties as a string map.
     *
     * @return a snapshot of {@code System.getProperties()}
     */
    public static Map<String, String> systemProperties() {
        Map<String, String> out = new HashMap<>();
        // a loop, not forEach: premain calls this, and its first lambda would cost the JVM's start
        for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
            out.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
        }
        return out;
    }

    static Path configFile(ConfigSources sources) {
        RawValue raw = sources.overrides().get(Keys.CONFIG.name());
        return raw == null ? null : Keys.CONFIG.parse(raw);
    }

    static String generatedRunId() {
        return "run-" + LocalDateTime.now().format(RUN_TIME) + "-"
                + String.format("%04x", ThreadLocalRandom.current().nextInt(0x10000));
    }
}
