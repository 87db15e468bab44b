package io.gradguard.core.config;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every configuration key with its default, accepted values and meaning. One table feeds the
 * parser (unknown keys), the "did you mean" hint and the help text, so they cannot drift apart.
 */
final class ConfigKeys {

    /**
     * One key.
     *
     * @param name dotted name as written in agent args and system properties
     * @param defaultText the default, as the help shows it
     * @param accepted the accepted values, as the help and error messages show them
     * @param meaning what the key does
     */
    record Key(String name, String defaultText, String accepted, String meaning) {
        /** {@code policy.max_norm} -> {@code GRADGUARD_POLICY_MAX_NORM}. */
        String environmentName() {
            return ENV_PREFIX + name.replace('.', '_').replace('-', '_').toUpperCase(java.util.Locale.ROOT);
        }
    }

    static final String PROPERTY_PREFIX = "gradguard.";
    static final String ENV_PREFIX = "GRADGUARD_";

    /** Keys that hold other keys in YAML ({@code policy:}). */
    static final Set<String> SECTIONS = Set.of("policy", "detector");

    static final List<Key> ALL =
            List.of(
                    new Key("config", "(none)", "path of a YAML file",
                            "file with any of these keys as a nested mapping; re-read when it changes (policy hot reload)"),
                    new Key("port", "9404", "0..65535, or auto (9404 or the next free port)",
                            "port of the Prometheus scrape endpoint; 0 = no endpoint"),
                    new Key("host", "127.0.0.1", "host name or IP address", "address the scrape endpoint binds"),
                    new Key("run", "run-<yyyyMMdd-HHmmss>-<4 hex>", "1..128 characters",
                            "value of the run label on every series"),
                    new Key("parameters", ".*", "Java regular expression",
                            "allow-list of parameter names that get per-parameter series"),
                    new Key("max_parameters", "500", "integer >= 0",
                            "cap on parameters with per-parameter series"),
                    new Key("summary", "10", "integer >= 0 (seconds)",
                            "seconds between console summary lines; 0 = off"),
                    new Key("update_ratio_every", "100", "integer >= 0",
                            "weight norms, update ratios and max |g| every N steps (max |g| every step for value and norm_type inf; every 100 when 0); 0 = never"),
                    new Key("policy.type", "none", String.join(" | ", PolicyConfig.TYPES), "the clipping policy"),
                    new Key("policy.max_norm", "1.0 (zscore: no cap)", "number > 0",
                            "global-norm, per-parameter-norm: norm to clip to; zscore: optional extra cap"),
                    new Key("policy.norm_type", "2", "2 | inf", "global-norm, per-parameter-norm: the norm used"),
                    new Key("policy.clip_value", "1.0", "number > 0",
                            "value: clamp every gradient element to [-clip_value, clip_value]"),
                    new Key("policy.lambda", "0.01", "number > 0",
                            "agc: a unit's gradient norm is capped at lambda * max(||W_i||, 1e-3)"),
                    new Key("policy.percentile", "10", "number in (0, 100]",
                            "percentile: clip to this percentile of past global norms"),
                    new Key("policy.history", "1000", "integer 1..1000000",
                            "percentile: how many past global norms are kept"),
                    new Key("policy.z_threshold", "2.5", "number > 0", "zscore: z above which the norm is clipped"),
                    new Key("policy.alpha", "0.97", "number in (0, 1)", "zscore: EMA smoothing factor"),
                    new Key("policy.warmup_steps", "25", "integer >= 1",
                            "zscore: first steps pass unclipped and seed the mean and variance"),
                    new Key("on_nonfinite", "skip", "skip | zero | none | fail",
                            "step with NaN/Inf gradients: skip the update, zero them, do nothing, or fail the job"),
                    new Key("max_consecutive_skips", "0", "integer >= 0",
                            "after this many skipped steps in a row, log loudly; 0 = no limit"),
                    new Key("fail_on_max_skips", "false", "true | false",
                            "whether reaching max_consecutive_skips also fails the job"),
                    new Key("detector.spike_z", "6.0", "number > 0",
                            "z-score of the global norm above which a step counts as an explosion"),
                    new Key("detector.vanishing_threshold", "1.0e-7", "number >= 0",
                            "global norm under which a step counts towards vanishing"),
                    new Key("detector.vanishing_steps", "100", "integer >= 1",
                            "consecutive such steps that make one vanishing event"),
                    new Key("log", "(off)", "path of a file, or empty / off",
                            "JSON Lines log with one record per step"),
                    new Key("log_max_bytes", "64MiB", "integer >= 1024, optional suffix KiB | MiB | GiB",
                            "size at which the step log is rotated"),
                    new Key("pushgateway", "(off)", "HOST:PORT, or empty / off",
                            "push metrics to this Prometheus Pushgateway as well"),
                    new Key("push_interval", "15", "integer 1..86400 (seconds)", "seconds between pushes"),
                    new Key("auth_file", "(no auth)", "path of a readable file, or empty / off",
                            "file holding user:password; the endpoint then asks for HTTP basic auth"),
                    new Key("tls_keystore", "(plain HTTP)", "path of a readable PKCS12 file, or empty / off",
                            "serve the endpoint over HTTPS with this keystore"),
                    new Key("tls_password_env", "(none)", "name of an environment variable that is set",
                            "variable holding the keystore password (never pass secrets as arguments)"));

    static final Map<String, Key> BY_NAME = byName();

    private ConfigKeys() {}

    private static Map<String, Key> byName() {
        Map<String, Key> map = new LinkedHashMap<>();
        for (Key key : ALL) {
            map.put(key.name(), key);
        }
        return Map.copyOf(map);
    }

    static boolean isKey(String name) {
        return BY_NAME.containsKey(name);
    }

    /**
     * The known key closest to an unknown one: a key whose last part equals it (a top-level
     * {@code max_norm} is meant as {@code policy.max_norm}), else the smallest edit distance.
     */
    static String closest(String unknown) {
        return closest(unknown, false);
    }

    /**
     * As {@link #closest(String)}; with {@code sectionsToo} a section name ({@code policy}) may be
     * the answer, which fits a YAML key but not an agent argument.
     */
    static String closest(String unknown, boolean sectionsToo) {
        String lower = unknown.toLowerCase(java.util.Locale.ROOT).replace('-', '_');
        for (Key key : ALL) {
            String name = key.name();
            if (name.equals(lower) || name.endsWith("." + lower)) {
                return name;
            }
        }
        String best = ALL.get(0).name();
        int bestDistance = Integer.MAX_VALUE;
        for (Key key : ALL) {
            int distance = editDistance(lower, key.name());
            int leafDistance = editDistance(lower, leaf(key.name())) + 1;
            int d = Math.min(distance, leafDistance);
            if (d < bestDistance) {
                bestDistance = d;
                best = key.name();
            }
        }
        if (sectionsToo) {
            for (String section : SECTIONS) {
                if (editDistance(lower, section) < bestDistance) {
                    bestDistance = editDistance(lower, section);
                    best = section;
                }
            }
        }
        return best;
    }

    private static String leaf(String name) {
        return name.substring(name.lastIndexOf('.') + 1);
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

    /** The user documentation printed for {@code -javaagent:gradguard.jar=help}. */
    static String helpText() {
        StringBuilder out = new StringBuilder();
        out.append("gradguard: gradient monitoring and clipping for DJL training jobs\n")
                .append('\n')
                .append("Usage: java -javaagent:gradguard.jar=KEY=VALUE,KEY=VALUE,... -jar your-trainer.jar\n")
                .append("       java -javaagent:gradguard.jar=help   prints this text\n")
                .append('\n')
                .append("Every key can be set in five places; the first one that sets it wins:\n")
                .append("  1. agent arguments        policy.type=global-norm,policy.max_norm=0.5\n")
                .append("                            (quote a value that holds a comma: parameters='w{1,3}')\n")
                .append("  2. system property        -Dgradguard.policy.max_norm=0.5\n")
                .append("  3. environment variable   GRADGUARD_POLICY_MAX_NORM=0.5  (dots and dashes -> '_', upper case)\n")
                .append("  4. the YAML file named by config, as a nested mapping:\n")
                .append("                              policy:\n")
                .append("                                type: global-norm\n")
                .append("                                max_norm: 0.5\n")
                .append("  5. the defaults below\n")
                .append("Editing the YAML file while the job runs changes the policy at the next step; a file\n")
                .append("that does not validate is rejected and the previous policy kept. Settings 1-3 still win\n")
                .append("over the edited file. Only policy.* changes while the job runs; other keys take effect\n")
                .append("at the next start.\n")
                .append('\n')
                .append("Keys:\n");
        int width = 0;
        for (Key key : ALL) {
            width = Math.max(width, key.name().length());
        }
        String indent = " ".repeat(width + 4);
        for (Key key : ALL) {
            out.append("  ").append(key.name()).append(" ".repeat(width - key.name().length() + 2))
                    .append(key.meaning()).append('\n');
            out.append(indent).append("accepts: ").append(key.accepted()).append('\n');
            out.append(indent).append("default: ").append(key.defaultText()).append('\n');
        }
        out.append('\n')
                .append("Clipping policies (policy.type):\n")
                .append("  none                no clipping, metrics only\n")
                .append("  value               clamp every element to [-clip_value, clip_value]\n")
                .append("  global-norm         like PyTorch clip_grad_norm_: scale all gradients so that their\n")
                .append("                      joint norm is at most max_norm\n")
                .append("  per-parameter-norm  the same rule applied to each parameter on its own\n")
                .append("  agc                 adaptive gradient clipping (NFNets), per unit, factor lambda\n")
                .append("  percentile          AutoClip: max_norm = percentile-th percentile of the last history\n")
                .append("                      global norms\n")
                .append("  zscore              ZClip: clip norms whose z-score against an EMA exceeds z_threshold\n");
        return out.toString();
    }
}
