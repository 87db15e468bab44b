package io.gradguard.grafana;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.representer.Representer;

/**
 * Writes deploy/kubernetes/prometheusrule.yaml's content: a Prometheus Operator {@code PrometheusRule} whose
 * groups are those of prometheus/rules.yml and prometheus/alerts.yml, unchanged. The grafana module's build runs
 * it at process-test-classes into target/kubernetes/; {@code KubernetesManifestsTest} fails while the committed
 * copy differs, so the cluster's rules cannot drift from the tested ones.
 *
 * <p>Arguments: rules.yml, alerts.yml, the output file. Public because exec-maven-plugin calls its main.
 */
public final class PrometheusRuleGenerator {

    static final String HEADER = """
            # Generated from grafana/prometheus/rules.yml and grafana/prometheus/alerts.yml by the grafana module's build
            # (PrometheusRuleGenerator, at process-test-classes). Do not edit: change those files, build, and copy
            # grafana/target/kubernetes/prometheusrule.yaml here; KubernetesManifestsTest fails until they agree.
            # The Prometheus Operator loads it if its ruleSelector matches these labels (add yours, e.g. release: ...).
            """;

    private PrometheusRuleGenerator() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: PrometheusRuleGenerator RULES_YML ALERTS_YML OUTPUT");
        }
        Path out = Path.of(args[2]);
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, generate(Path.of(args[0]), Path.of(args[1])));
    }

    /** The PrometheusRule for these rule files, as YAML text. */
    static String generate(Path rules, Path alerts) throws IOException {
        List<Object> groups = new ArrayList<>();
        for (Path file : List.of(rules, alerts)) {
            Map<String, Object> doc = new Yaml().load(Files.readString(file));
            groups.addAll((List<?>) doc.get("groups"));
        }
        Map<String, Object> labels = new LinkedHashMap<>();
        labels.put("app.kubernetes.io/name", "gradguard");
        labels.put("app.kubernetes.io/component", "rules");
        Map<String, Object> metadata = new LinkedHashMap<>();
        metadata.put("name", "gradguard");
        metadata.put("labels", labels);
        Map<String, Object> rule = new LinkedHashMap<>();
        rule.put("apiVersion", "monitoring.coreos.com/v1");
        rule.put("kind", "PrometheusRule");
        rule.put("metadata", metadata);
        rule.put("spec", Map.of("groups", groups));
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndicatorIndent(2);
        options.setIndentWithIndicator(true);
        options.setWidth(120);
        return HEADER + new Yaml(new LiteralMultiLine(options), options).dump(rule);
    }

    /** Multi-line strings (the PromQL expressions) as literal blocks, as they are written in the source files. */
    private static final class LiteralMultiLine extends Representer {
        LiteralMultiLine(DumperOptions options) {
            super(options);
        }

        @Override
        protected Node representScalar(Tag tag, String value, DumperOptions.ScalarStyle style) {
            return super.representScalar(tag, value, value.contains("\n") ? DumperOptions.ScalarStyle.LITERAL : style);
        }
    }
}
