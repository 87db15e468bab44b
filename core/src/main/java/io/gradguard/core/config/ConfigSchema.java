package io.gradguard.core.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The set of keys one loader knows, with the rules that span several keys. Assembled from the
 * declarations of the parts that read them (the agent's own keys, each policy's settings, the
 * detector's), so that adding a key is one declaration in one place.
 */
public final class ConfigSchema {

    private final List<ConfigKey<?>> keys;
    private final Map<String, ConfigKey<?>> byName;
    private final Set<String> sections;
    private final List<Function<GradGuardConfig, List<ConfigProblem>>> checks;
    private final Map<String, Map<String, String>> helpSections;

    private ConfigSchema(
            List<ConfigKey<?>> keys,
            List<Function<GradGuardConfig, List<ConfigProblem>>> checks,
            Map<String, Map<String, String>> helpSections) {
        this.keys = List.copyOf(keys);
        Map<String, ConfigKey<?>> names = new LinkedHashMap<>();
        Set<String> sectionNames = new LinkedHashSet<>();
        for (ConfigKey<?> key : keys) {
            if (names.put(key.name(), key) != null) {
                throw new IllegalArgumentException("key declared twice: " + key.name());
            }
            int dot = key.name().indexOf('.');
            if (dot > 0) {
                sectionNames.add(key.name().substring(0, dot));
            }
        }
        this.byName = Collections.unmodifiableMap(names);
        this.sections = Collections.unmodifiableSet(sectionNames);
        this.checks = List.copyOf(checks);
        this.helpSections = Collections.unmodifiableMap(new LinkedHashMap<>(helpSections));
    }

    /**
     * A schema of these keys, in the order given (the order of the help and the README table).
     *
     * @param keys the declarations
     * @return the schema
     */
    public static ConfigSchema of(List<ConfigKey<?>> keys) {
        return new ConfigSchema(keys, List.of(), Map.of());
    }

    /**
     * This schema with more keys after its own.
     *
     * @param more further declarations
     * @return a new schema
     */
    public ConfigSchema and(List<? extends ConfigKey<?>> more) {
        List<ConfigKey<?>> all = new ArrayList<>(keys);
        all.addAll(more);
        return new ConfigSchema(all, checks, helpSections);
    }

    /**
     * This schema with a rule over the loaded configuration (e.g. "a setting no policy reads").
     *
     * @param check returns the problems it finds; empty when none
     * @return a new schema
     */
    public ConfigSchema withCheck(Function<GradGuardConfig, List<ConfigProblem>> check) {
        List<Function<GradGuardConfig, List<ConfigProblem>>> all = new ArrayList<>(checks);
        all.add(check);
        return new ConfigSchema(keys, all, helpSections);
    }

    /**
     * This schema with a section at the end of the help text.
     *
     * @param title the section's title
     * @param entries name to one-line explanation, in order
     * @return a new schema
     */
    public ConfigSchema withHelpSection(String title, Map<String, String> entries) {
        Map<String, Map<String, String>> all = new LinkedHashMap<>(helpSections);
        all.put(title, new LinkedHashMap<>(entries));
        return new ConfigSchema(keys, checks, all);
    }

    /** @return every key, in declaration order */
    public List<ConfigKey<?>> keys() {
        return keys;
    }

    /**
     * @param name a dotted name
     * @return the key of that name, or null
     */
    public ConfigKey<?> key(String name) {
        return byName.get(name);
    }

    boolean isKey(String name) {
        return byName.containsKey(name);
    }

    /** Names that hold other keys in YAML ({@code policy:}). */
    Set<String> sections() {
        return sections;
    }

    List<ConfigProblem> check(GradGuardConfig config) {
        List<ConfigProblem> found = new ArrayList<>();
        for (Function<GradGuardConfig, List<ConfigProblem>> c : checks) {
            found.addAll(c.apply(config));
        }
        return found;
    }

    String keyForEnvironmentName(String variable) {
        for (ConfigKey<?> key : keys) {
            if (key.environmentName().equals(variable)) {
                return key.name();
            }
        }
        return null;
    }

    /** The first key inside a section, for the example in "nest its keys under it". */
    String firstChild(String section) {
        for (ConfigKey<?> key : keys) {
            if (key.name().startsWith(section + ".")) {
                return key.leaf();
            }
        }
        return "key";
    }

    /**
     * The known key closest to an unknown one: a key whose last part equals it (a top-level
     * {@code max_norm} is meant as {@code policy.max_norm}), else the smallest edit distance. With
     * {@code sectionsToo} a section name may be the answer, which fits a YAML key but not an
     * agent argument.
     */
    String closest(String unknown, boolean sectionsToo) {
        String lower = unknown.toLowerCase(Locale.ROOT).replace('-', '_');
        for (ConfigKey<?> key : keys) {
            if (key.name().equals(lower) || key.name().endsWith("." + lower)) {
                return key.name();
            }
        }
        String best = keys.get(0).name();
        int bestDistance = Integer.MAX_VALUE;
        for (ConfigKey<?> key : keys) {
            int d = Math.min(editDistance(lower, key.name()), editDistance(lower, key.leaf()) + 1);
            if (d < bestDistance) {
                bestDistance = d;
                best = key.name();
            }
        }
        if (sectionsToo) {
            for (String section : sections) {
                if (editDistance(lower, section) < bestDistance) {
                    bestDistance = editDistance(lower, section);
                    best = section;
                }
            }
        }
        return best;
    }

    /** Levenshtein distance; the inputs are capped because a fuzzed key may be megabytes long. */
    static int editDistance(String a, String b) {
        String s = a.length() > 64 ? a.substring(0, 64) : a;
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= s.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (s.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j] + 1, current[j - 1] + 1));
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    /**
     * The text printed for {@code -javaagent:gradguard-agent.jar=help}: the sources and their
     * precedence, then every key with its meaning, accepted values and default.
     *
     * @return multi-line text ending in a line break
     */
    public String helpText() {
        StringBuilder out = new StringBuilder();
        out.append("gradguard: gradient monitoring and clipping for DJL training jobs\n\n")
                .append("Usage: java -javaagent:gradguard-agent.jar=KEY=VALUE,KEY=VALUE,... -jar your-trainer.jar\n")
                .append("       java -javaagent:gradguard-agent.jar=help   prints this text\n\n")
                .append("Every key can be set in five places; the first one that sets it wins:\n")
                .append("  1. agent arguments        policy.type=global-norm,policy.max_norm=0.5\n")
                .append("                            (quote a value that holds a comma: parameters='w{1,3}')\n")
                .append("  2. system property        -Dgradguard.policy.max_norm=0.5\n")
                .append(
                        "  3. environment variable   GRADGUARD_POLICY_MAX_NORM=0.5  (dots and dashes -> '_', upper case)\n")
                .append("  4. the YAML file named by config, as a nested mapping:\n")
                .append("                              policy:\n")
                .append("                                type: global-norm\n")
                .append("                                max_norm: 0.5\n")
                .append("  5. the defaults below\n")
                .append("Editing the YAML file while the job runs changes the policy at the next step; a file\n")
                .append("that does not validate is rejected and the previous policy kept. Settings 1-3 still win\n")
                .append("over the edited file. Only policy.* changes while the job runs; other keys take effect\n")
                .append("at the next start.\n\nKeys:\n");
        int width = 0;
        for (ConfigKey<?> key : keys) {
            width = Math.max(width, key.name().length());
        }
        String indent = " ".repeat(width + 4);
        for (ConfigKey<?> key : keys) {
            out.append("  ")
                    .append(key.name())
                    .append(" ".repeat(width - key.name().length() + 2))
                    .append(key.doc())
                    .append('\n');
            out.append(indent).append("accepts: ").append(key.accepted()).append('\n');
            out.append(indent).append("default: ").append(key.defaultText()).append('\n');
        }
        helpSections.forEach((title, entries) -> {
            out.append('\n').append(title).append(":\n");
            int w = entries.keySet().stream().mapToInt(String::length).max().orElse(0);
            entries.forEach((name, text) -> out.append("  ")
                    .append(name)
                    .append(" ".repeat(w - name.length() + 2))
                    .append(text)
                    .append('\n'));
        });
        return out.toString();
    }

    /**
     * The README's options table, made from the declarations so that the two cannot differ.
     *
     * @return a Markdown table, one row a key, ending in a line break
     */
    public String markdownTable() {
        StringBuilder out = new StringBuilder("| key | default | accepts | meaning |\n|---|---|---|---|\n");
        for (ConfigKey<?> key : keys) {
            out.append("| `")
                    .append(key.name())
                    .append("` | ")
                    .append(cell(key.defaultText()))
                    .append(" | ")
                    .append(cell(key.accepted()))
                    .append(" | ")
                    .append(cell(key.doc()))
                    .append(" |\n");
        }
        return out.toString();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("<", "&lt;");
    }
}
