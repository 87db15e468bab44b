package io.gradguard.grafana;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * Every manifest in deploy/kubernetes parses, and they fit together: the Job's pod carries the labels the
 * PodMonitor selects and the port it scrapes, that port is the agent's, the agent jar is where the init container
 * puts it, and the PrometheusRule is exactly what the generator makes of prometheus/rules.yml and alerts.yml.
 */
final class KubernetesManifestsTest {

    private static final Path DEPLOY = Path.of("..", "deploy", "kubernetes");
    private static final Map<String, Map<String, Object>> BY_KIND = new TreeMap<>();

    @BeforeAll
    static void parseEveryManifest() throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(DEPLOY)) {
            files = listing.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        for (Path file : files) {
            for (Object doc : new Yaml().loadAll(Files.readString(file))) {
                Map<String, Object> manifest = map(doc);
                String kind = (String) manifest.get("kind");
                assertNotNull(kind, file + " has a document without kind");
                assertNotNull(manifest.get("apiVersion"), file + ": " + kind + " without apiVersion");
                assertEquals(null, BY_KIND.put(kind, manifest), "one " + kind + " only");
            }
        }
    }

    @Test
    void theKindsAndNamesAreTheExpectedOnes() {
        assertEquals(List.of("Job", "PodMonitor", "PrometheusRule"), List.copyOf(BY_KIND.keySet()));
        assertEquals("batch/v1", BY_KIND.get("Job").get("apiVersion"));
        assertEquals("monitoring.coreos.com/v1", BY_KIND.get("PodMonitor").get("apiVersion"));
        assertEquals("monitoring.coreos.com/v1", BY_KIND.get("PrometheusRule").get("apiVersion"));
        assertEquals("djl-training", name(BY_KIND.get("Job")));
        assertEquals("gradguard", name(BY_KIND.get("PodMonitor")));
        assertEquals("gradguard", name(BY_KIND.get("PrometheusRule")));
    }

    @Test
    void thePodMonitorSelectsTheJobsPodsAndScrapesTheAgentsPort() {
        Map<String, Object> template = map(map(BY_KIND.get("Job").get("spec")).get("template"));
        Map<String, Object> podLabels = map(map(template.get("metadata")).get("labels"));
        Map<String, Object> monitor = map(BY_KIND.get("PodMonitor").get("spec"));
        Map<String, Object> selected = map(map(monitor.get("selector")).get("matchLabels"));
        assertTrue(
                !selected.isEmpty() && podLabels.entrySet().containsAll(selected.entrySet()),
                "PodMonitor selects " + selected + ", the Job's pods carry " + podLabels);

        Map<String, Object> trainer = container(template, "containers", "trainer");
        List<Map<String, Object>> endpoints = maps(monitor.get("podMetricsEndpoints"));
        assertEquals(1, endpoints.size());
        assertEquals("/metrics", endpoints.get(0).get("path"));
        Map<String, Object> port = null;
        for (Map<String, Object> p : maps(trainer.get("ports"))) {
            if (endpoints.get(0).get("port").equals(p.get("name"))) {
                port = p;
            }
        }
        assertNotNull(port, "the trainer has no port named " + endpoints.get(0).get("port"));

        String javaToolOptions = env(trainer, "JAVA_TOOL_OPTIONS");
        Matcher agent = Pattern.compile("-javaagent:(\\S+)/gradguard-agent\\.jar=(\\S+)")
                .matcher(javaToolOptions);
        assertTrue(agent.find(), "JAVA_TOOL_OPTIONS adds no -javaagent: " + javaToolOptions);
        Map<String, String> args = new TreeMap<>();
        for (String kv : agent.group(2).split(",")) {
            args.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        assertEquals(
                String.valueOf(port.get("containerPort")), args.get("port"), "the agent listens on the scraped port");
        assertEquals("0.0.0.0", args.get("host"), "the pod IP must be reachable for the scrape");

        // The jar: copied by the init container into a volume the trainer mounts at the -javaagent directory.
        Map<String, Object> init = container(template, "initContainers", "gradguard-agent");
        String volume = mountAt(trainer, agent.group(1));
        assertNotNull(volume, "the trainer mounts nothing at " + agent.group(1));
        String initDir = null;
        for (Map<String, Object> m : maps(init.get("volumeMounts"))) {
            if (volume.equals(m.get("name"))) {
                initDir = (String) m.get("mountPath");
            }
        }
        assertNotNull(initDir, "the init container does not mount volume " + volume);
        List<?> command = (List<?>) init.get("command");
        assertEquals(
                initDir + "/gradguard-agent.jar",
                command.get(command.size() - 1),
                "the init container copies the jar there");
        boolean emptyDir = maps(map(template.get("spec")).get("volumes")).stream()
                .anyMatch(v -> volume.equals(v.get("name")) && v.containsKey("emptyDir"));
        assertTrue(emptyDir, "volume " + volume + " is an emptyDir of the pod");
    }

    @Test
    void thePrometheusRuleIsWhatTheGeneratorMakesOfTheTestedRuleFiles() throws IOException {
        Path committed = DEPLOY.resolve("prometheusrule.yaml");
        String expected = PrometheusRuleGenerator.generate(MetricContract.RULES, MetricContract.ALERTS);
        assertEquals(
                expected,
                Files.readString(committed),
                committed + " differs from prometheus/rules.yml and alerts.yml;"
                        + " regenerate it: cp grafana/target/kubernetes/prometheusrule.yaml deploy/kubernetes/ (after a build)");
        String generatedByBuild = System.getProperty("gradguard.rule.generated");
        if (generatedByBuild != null) {
            assertEquals(expected, Files.readString(Path.of(generatedByBuild)), "the build's generator run");
        }
        List<String> names = new ArrayList<>();
        for (Map<String, Object> group :
                maps(map(BY_KIND.get("PrometheusRule").get("spec")).get("groups"))) {
            for (Map<String, Object> rule : maps(group.get("rules"))) {
                names.add((String) (rule.containsKey("alert") ? rule.get("alert") : rule.get("record")));
            }
        }
        assertTrue(names.containsAll(PromtoolRulesTest.ALERT_NAMES), names.toString());
        assertTrue(names.containsAll(MetricContract.recordingRules()), names.toString());
    }

    private static Map<String, Object> container(Map<String, Object> template, String list, String name) {
        for (Map<String, Object> c : maps(map(template.get("spec")).get(list))) {
            if (name.equals(c.get("name"))) {
                return c;
            }
        }
        throw new AssertionError("no " + list + " entry named " + name);
    }

    private static String env(Map<String, Object> container, String name) {
        for (Map<String, Object> e : maps(container.get("env"))) {
            if (name.equals(e.get("name"))) {
                return (String) e.get("value");
            }
        }
        throw new AssertionError(container.get("name") + " has no env " + name);
    }

    private static String mountAt(Map<String, Object> container, String path) {
        for (Map<String, Object> m : maps(container.get("volumeMounts"))) {
            if (path.equals(m.get("mountPath"))) {
                return (String) m.get("name");
            }
        }
        return null;
    }

    private static String name(Map<String, Object> manifest) {
        return (String) map(manifest.get("metadata")).get("name");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return o == null ? Map.of() : (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> maps(Object o) {
        return o == null ? List.of() : (List<Map<String, Object>>) o;
    }
}
