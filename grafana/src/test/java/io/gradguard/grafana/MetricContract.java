package io.gradguard.grafana;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The series names the agent exposes as scraped (CONVENTIONS.md, "Metric contract") and the recording rules of
 * prometheus/rules.yml: the only names a dashboard or alert query may use.
 */
final class MetricContract {

    /** Every scraped name, including the histogram's and summary's derived series. */
    static final Set<String> SCRAPED = Set.of(
            "gradguard_steps_total",
            "gradguard_grad_norm",
            "gradguard_grad_max_abs",
            "gradguard_grad_global_norm",
            "gradguard_grad_global_norm_clipped",
            "gradguard_grad_global_norm_distribution_bucket",
            "gradguard_grad_global_norm_distribution_count",
            "gradguard_grad_global_norm_distribution_sum",
            "gradguard_grad_global_norm_distribution_max",
            "gradguard_param_norm",
            "gradguard_update_ratio",
            "gradguard_grad_nonfinite_total",
            "gradguard_clip_total",
            "gradguard_clip_coefficient",
            "gradguard_skipped_steps_total",
            "gradguard_spikes_total",
            "gradguard_grad_global_norm_zscore",
            "gradguard_loss",
            "gradguard_overhead_seconds",
            "gradguard_overhead_seconds_count",
            "gradguard_overhead_seconds_sum",
            "gradguard_overhead_seconds_max",
            "gradguard_agent_errors_total",
            "gradguard_policy_info",
            "gradguard_config_reloads_total",
            "gradguard_recoveries_total",
            "gradguard_lr_scale",
            "gradguard_rewound_steps_total",
            "gradguard_incidents_total",
            "gradguard_shadow_clip_total",
            "gradguard_shadow_clip_coefficient");

    static final Path RULES = Path.of("prometheus", "rules.yml");
    static final Path ALERTS = Path.of("prometheus", "alerts.yml");

    /** A recording rule name: level:metric:operation. */
    private static final Pattern RULE_NAME = Pattern.compile("\\b[a-zA-Z_]\\w*:\\w+:\\w+\\b");

    private static final Pattern METRIC_NAME = Pattern.compile("\\bgradguard_\\w+");
    private static final Pattern RECORD_LINE = Pattern.compile("(?m)^\\s*-\\s*record:\\s*(\\S+)\\s*$");

    private MetricContract() {}

    /** The names recorded by prometheus/rules.yml, in file order. */
    static List<String> recordingRules() throws IOException {
        Matcher m = RECORD_LINE.matcher(Files.readString(RULES));
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /**
     * The names in {@code promql} that are neither scraped nor recorded. Recording-rule names are removed first:
     * their middle part ({@code gradguard_steps}) is not a scraped name on its own.
     */
    static Set<String> unknownNames(String promql, Set<String> recorded) {
        Set<String> unknown = new TreeSet<>();
        Matcher rules = RULE_NAME.matcher(promql);
        StringBuilder rest = new StringBuilder();
        while (rules.find()) {
            if (!recorded.contains(rules.group())) {
                unknown.add(rules.group());
            }
            rules.appendReplacement(rest, " ");
        }
        rules.appendTail(rest);
        Matcher metrics = METRIC_NAME.matcher(rest);
        while (metrics.find()) {
            if (!SCRAPED.contains(metrics.group())) {
                unknown.add(metrics.group());
            }
        }
        return unknown;
    }
}
