package io.gradguard.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings that win over the YAML file (agent args > system properties > environment), read
 * once at start so that a reload of the file redoes the same merge without reading them again.
 * Problems (a typo in a key, a pair without {@code =}) are collected, not thrown: the loader decides
 * whether they are fatal.
 */
public final class ConfigSources {

    private final Map<String, RawValue> overrides;
    private final List<String> unknownEnvironmentNames;
    private final Map<String, String> environment;
    private final List<ConfigProblem> problems;

    private ConfigSources(
            Map<String, RawValue> overrides,
            List<String> unknownEnvironmentNames,
            Map<String, String> environment,
            List<ConfigProblem> problems) {
        this.overrides = overrides;
        this.unknownEnvironmentNames = unknownEnvironmentNames;
        this.environment = environment;
        this.problems = problems;
    }

    /**
     * Reads the sources that win over the file.
     *
     * @param schema the keys to accept
     * @param agentArgs the {@code -javaagent:jar=...} string, may be null
     * @param systemProperties the JVM's system properties; only {@code gradguard.*} are read
     * @param environment the environment; only {@code GRADGUARD_*} variables are read
     * @return the sources
     */
    public static ConfigSources of(
            ConfigSchema schema,
            String agentArgs,
            Map<String, String> systemProperties,
            Map<String, String> environment) {
        Map<String, String> env = environment == null ? Map.of() : environment;
        Map<String, RawValue> merged = new HashMap<>();
        List<String> unknownEnv = new ArrayList<>();
        List<ConfigProblem> problems = new ArrayList<>();
        // Lowest precedence first: each later source overwrites.
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (name == null || !name.startsWith(ConfigKey.ENV_PREFIX) || e.getValue() == null) {
                continue;
            }
            String key = schema.keyForEnvironmentName(name);
            if (key == null) {
                unknownEnv.add(name);
            } else {
                merged.put(key, new RawValue(key, e.getValue().trim(), "environment " + name));
            }
        }
        if (systemProperties != null) {
            for (Map.Entry<String, String> e : new TreeMap<>(nonNullKeys(systemProperties)).entrySet()) {
                String name = e.getKey();
                if (!name.startsWith(ConfigKey.PROPERTY_PREFIX) || e.getValue() == null) {
                    continue;
                }
                String key = normalise(name.substring(ConfigKey.PROPERTY_PREFIX.length()));
                if (!schema.isKey(key)) {
                    problems.add(unknown(
                            schema,
                            key,
                            "system property " + name + " is not a gradguard key; did you mean "
                                    + ConfigKey.PROPERTY_PREFIX + schema.closest(key, false) + "?"));
                    continue;
                }
                merged.put(key, new RawValue(key, e.getValue().trim(), "system property " + name));
            }
        }
        merged.putAll(parseAgentArgs(schema, agentArgs, problems));
        return new ConfigSources(Map.copyOf(merged), List.copyOf(unknownEnv), env, List.copyOf(problems));
    }

    /** An unknown key belongs to the part of the key it most likely meant. */
    private static ConfigProblem unknown(ConfigSchema schema, String key, String message) {
        ConfigKey<?> meant = schema.key(schema.closest(key, false));
        return new ConfigProblem(
                key, new ConfigException(message).getMessage(), meant == null ? Part.MONITORING : meant.part());
    }

    private static Map<String, String> nonNullKeys(Map<String, String> map) {
        Map<String, String> copy = new HashMap<>();
        map.forEach((k, v) -> {
            if (k != null) {
                copy.put(k, v);
            }
        });
        return copy;
    }

    /** Users write {@code max-norm} as often as {@code max_norm}; both mean the same key. */
    static String normalise(String key) {
        return key.trim().replace('-', '_');
    }

    /**
     * {@code key=value} pairs separated by commas. A value may be quoted with ' or " so that it can
     * hold commas (regular expressions such as {@code w{1,3}} need that).
     */
    static Map<String, RawValue> parseAgentArgs(ConfigSchema schema, String agentArgs, List<ConfigProblem> problems) {
        List<ConfigProblem> unknownKeys = new ArrayList<>();
        try {
            Map<String, RawValue> values = parseAgentArgs(schema, agentArgs, unknownKeys::add);
            problems.addAll(unknownKeys);
            return values;
        } catch (ConfigException e) {
            // The string cannot be split into pairs: nothing in it can be trusted.
            problems.addAll(unknownKeys);
            problems.add(new ConfigProblem("agent args", e.getMessage(), Part.PROTECTION));
            return new HashMap<>();
        }
    }

    private static Map<String, RawValue> parseAgentArgs(
            ConfigSchema schema, String agentArgs, java.util.function.Consumer<ConfigProblem> unknownKeys) {
        Map<String, RawValue> values = new HashMap<>();
        if (agentArgs == null || agentArgs.isBlank()) {
            return values;
        }
        int i = 0;
        int n = agentArgs.length();
        while (i < n) {
            int keyStart = i;
            while (i < n && agentArgs.charAt(i) != '=' && agentArgs.charAt(i) != ',') {
                i++;
            }
            String rawKey = agentArgs.substring(keyStart, i);
            if (i >= n || agentArgs.charAt(i) == ',') {
                if (!rawKey.isBlank()) {
                    throw new ConfigException("agent argument '" + Values.shown(rawKey.trim())
                            + "' is not key=value; write pairs like policy.type=global-norm separated by commas"
                            + " (help alone lists every key)");
                }
                i++; // empty segment such as a trailing comma
                continue;
            }
            i++; // '='
            String key = normalise(rawKey);
            if (key.isEmpty()) {
                throw new ConfigException("agent argument '="
                        + Values.shown(agentArgs.substring(i, Math.min(n, i + 40))) + "' has no key; write key=value");
            }
            while (i < n && agentArgs.charAt(i) == ' ') {
                i++;
            }
            String value;
            if (i < n && (agentArgs.charAt(i) == '\'' || agentArgs.charAt(i) == '"')) {
                char quote = agentArgs.charAt(i);
                int close = agentArgs.indexOf(quote, i + 1);
                if (close < 0) {
                    throw new ConfigException("agent argument " + Values.shown(key) + " has an opening " + quote
                            + " without a closing one; close the quote");
                }
                value = agentArgs.substring(i + 1, close);
                i = close + 1;
                while (i < n && agentArgs.charAt(i) == ' ') {
                    i++;
                }
                if (i < n && agentArgs.charAt(i) != ',') {
                    throw new ConfigException("agent argument " + Values.shown(key)
                            + " has text after its closing quote; put a comma after the quoted value");
                }
            } else {
                int end = agentArgs.indexOf(',', i);
                if (end < 0) {
                    end = n;
                }
                value = agentArgs.substring(i, end).trim();
                i = end;
            }
            i++; // ',' or past the end
            if (!schema.isKey(key)) {
                unknownKeys.accept(unknown(
                        schema,
                        key,
                        "agent argument " + Values.shown(key) + " is not a gradguard key; did you mean "
                                + schema.closest(key, false) + "?"));
                continue;
            }
            RawValue previous = values.put(key, new RawValue(key, value, "agent args"));
            if (previous != null) {
                throw new ConfigException(key + " is given twice in the agent args (" + Values.shown(previous.text())
                        + " and " + Values.shown(value) + "); keep one");
            }
        }
        return values;
    }

    Map<String, RawValue> overrides() {
        return overrides;
    }

    Map<String, String> environment() {
        return environment;
    }

    List<ConfigProblem> problems() {
        return problems;
    }

    /**
     * Unknown {@code GRADGUARD_*} variables, except those that settings name as holding secrets
     * (the keystore password, OTLP headers). An environment is often inherited from elsewhere, so
     * such a variable is worth a line but switches nothing off.
     */
    List<ConfigProblem> unknownEnvironment(ConfigSchema schema, List<String> secretVariables) {
        List<ConfigProblem> found = new ArrayList<>();
        for (String name : unknownEnvironmentNames) {
            if (!secretVariables.contains(name)) {
                String lower = name.substring(ConfigKey.ENV_PREFIX.length()).toLowerCase(java.util.Locale.ROOT);
                for (String section : schema.sections()) {
                    lower = lower.replace(section + "_", section + ".");
                }
                ConfigKey<?> guess = schema.key(schema.closest(lower, false));
                found.add(new ConfigProblem(
                        name,
                        new ConfigException("environment variable " + Values.shown(name)
                                        + " is not a gradguard key; did you mean " + guess.environmentName() + "?")
                                .getMessage(),
                        Part.MONITORING));
            }
        }
        return found;
    }
}
