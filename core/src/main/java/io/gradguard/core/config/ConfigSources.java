package io.gradguard.core.config;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings that win over the YAML file (agent args > system properties > environment),
 * parsed once at start so that a reload of the file can redo the same merge.
 */
final class ConfigSources {

    private final Map<String, RawValue> overrides;
    private final List<String> unknownEnvironmentNames;
    private final Map<String, String> environment;

    private ConfigSources(
            Map<String, RawValue> overrides, List<String> unknownEnvironmentNames, Map<String, String> environment) {
        this.overrides = overrides;
        this.unknownEnvironmentNames = unknownEnvironmentNames;
        this.environment = environment;
    }

    static ConfigSources of(String agentArgs, Map<String, String> systemProperties, Map<String, String> environment) {
        Map<String, String> env = environment == null ? Map.of() : environment;
        Map<String, RawValue> merged = new HashMap<>();
        List<String> unknownEnv = new ArrayList<>();
        // Lowest precedence first: each later source overwrites.
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String name = e.getKey();
            if (name == null || !name.startsWith(ConfigKeys.ENV_PREFIX) || e.getValue() == null) {
                continue;
            }
            String key = keyForEnvironmentName(name);
            if (key == null) {
                unknownEnv.add(name);
            } else {
                merged.put(key, new RawValue(key, e.getValue().trim(), "environment " + name));
            }
        }
        if (systemProperties != null) {
            for (Map.Entry<String, String> e : new TreeMap<>(nonNullKeys(systemProperties)).entrySet()) {
                String name = e.getKey();
                if (!name.startsWith(ConfigKeys.PROPERTY_PREFIX) || e.getValue() == null) {
                    continue;
                }
                String key = normalise(name.substring(ConfigKeys.PROPERTY_PREFIX.length()));
                if (!ConfigKeys.isKey(key)) {
                    throw new ConfigException("system property " + name + " is not a gradguard key; did you mean "
                            + ConfigKeys.PROPERTY_PREFIX + ConfigKeys.closest(key) + "?");
                }
                merged.put(key, new RawValue(key, e.getValue().trim(), "system property " + name));
            }
        }
        merged.putAll(parseAgentArgs(agentArgs));
        return new ConfigSources(Map.copyOf(merged), List.copyOf(unknownEnv), env);
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

    private static String keyForEnvironmentName(String name) {
        for (ConfigKeys.Key key : ConfigKeys.ALL) {
            if (key.environmentName().equals(name)) {
                return key.name();
            }
        }
        return null;
    }

    /**
     * {@code key=value} pairs separated by commas. A value may be quoted with ' or " so that it can
     * hold commas (regular expressions such as {@code w{1,3}} need that).
     */
    static Map<String, RawValue> parseAgentArgs(String agentArgs) {
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
                throw new ConfigException("agent argument '=" + Values.shown(agentArgs.substring(i, Math.min(n, i + 40)))
                        + "' has no key; write key=value");
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
            if (!ConfigKeys.isKey(key)) {
                throw new ConfigException("agent argument " + Values.shown(key) + " is not a gradguard key; did you mean "
                        + ConfigKeys.closest(key) + "?");
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

    /** Unknown {@code GRADGUARD_*} variables are typos, except the one that holds the keystore password. */
    void rejectUnknownEnvironment(String passwordVariable) {
        for (String name : unknownEnvironmentNames) {
            if (!name.equals(passwordVariable)) {
                String guess = ConfigKeys.closest(
                        name.substring(ConfigKeys.ENV_PREFIX.length()).toLowerCase(java.util.Locale.ROOT)
                                .replace("policy_", "policy.").replace("detector_", "detector."));
                throw new ConfigException("environment variable " + Values.shown(name)
                        + " is not a gradguard key; did you mean " + ConfigKeys.BY_NAME.get(guess).environmentName()
                        + "?");
            }
        }
    }
}
