package io.gradguard.grafana;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.yaml.snakeyaml.Yaml;

/**
 * promtool on prometheus/rules.yml, prometheus/alerts.yml and tests/*.yml, plus the shape every alert must have
 * (labels, annotations, runbook section, firing and silent promtool cases).
 */
final class PromtoolRulesTest {

    static final List<String> ALERT_NAMES = List.of(
            "GradGuardGradientExplosion",
            "GradGuardNonFiniteGradients",
            "GradGuardGradientVanishing",
            "GradGuardClippingSaturated",
            "GradGuardTrainingStalled",
            "GradGuardAgentErrors",
            "GradGuardRepeatedRewinds");
    private static final String RUNBOOK_BASE = "https://github.com/gradguard/gradguard/blob/main/grafana/RUNBOOK.md#";
    private static final Path TESTS = Path.of("tests");

    private record Result(int exitCode, String output) {}

    @Test
    void ruleFilesPassPromtoolCheck() throws Exception {
        Result result = promtool("check", "rules", MetricContract.RULES.toString(), MetricContract.ALERTS.toString());
        assertEquals(0, result.exitCode(), result.output());
        assertTrue(result.output().contains("SUCCESS: " + ALERT_NAMES.size() + " rules found"), result.output());
    }

    @TestFactory
    Stream<DynamicTest> everyPromtoolUnitTestFilePasses() throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(TESTS)) {
            files = listing.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
        }
        assertTrue(files.size() >= 2, "tests/*.yml: " + files);
        return files.stream()
                .map(file -> DynamicTest.dynamicTest("promtool test rules " + file, () -> {
                    Result result = promtool("test", "rules", file.toString());
                    assertEquals(0, result.exitCode(), result.output());
                    assertTrue(result.output().contains("SUCCESS"), result.output());
                }));
    }

    @Test
    void alertsAreExactlyTheListedOnesWithSeverityAnnotationsAndRunbook() throws IOException {
        String runbook = Files.readString(Path.of("RUNBOOK.md"));
        Set<String> recorded = new HashSet<>(MetricContract.recordingRules());
        List<String> problems = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Map<String, Object> rule : rules(MetricContract.ALERTS)) {
            String name = (String) rule.get("alert");
            names.add(name);
            Map<String, String> labels = stringMap(rule.get("labels"));
            Map<String, String> annotations = stringMap(rule.get("annotations"));
            if (!List.of("critical", "warning").contains(labels.get("severity"))) {
                problems.add(name + ": severity " + labels.get("severity"));
            }
            if (annotations.getOrDefault("summary", "").isBlank()) {
                problems.add(name + ": no summary");
            }
            String description = annotations.getOrDefault("description", "");
            if (!description.contains("$labels") || !description.contains("$value")) {
                problems.add(name + ": description not templated with $labels and $value");
            }
            String anchor = name.toLowerCase(Locale.ROOT);
            if (!(RUNBOOK_BASE + anchor).equals(annotations.get("runbook_url"))) {
                problems.add(name + ": runbook_url " + annotations.get("runbook_url"));
            }
            // GitHub derives the anchor from the heading text: "## GradGuardGradientExplosion".
            if (!runbook.contains("\n## " + name + "\n")) {
                problems.add(name + ": no '## " + name + "' section in RUNBOOK.md");
            }
            Set<String> unknown = MetricContract.unknownNames((String) rule.get("expr"), recorded);
            if (!unknown.isEmpty()) {
                problems.add(name + ": expr uses " + unknown);
            }
        }
        assertEquals(ALERT_NAMES, names);
        assertEquals(List.of(), problems);
    }

    @Test
    void runbookStatesEveryAlertsTimeToFire() throws IOException {
        String runbook = Files.readString(Path.of("RUNBOOK.md"));
        for (String name : ALERT_NAMES) {
            int start = runbook.indexOf("\n## " + name + "\n");
            assertTrue(start >= 0, name);
            int end = runbook.indexOf("\n## ", start + 1);
            String section = runbook.substring(start, end < 0 ? runbook.length() : end);
            for (String part : List.of("Time to fire", "Meaning", "Confirm", "Act")) {
                assertTrue(section.contains("**" + part), name + " section lacks **" + part + "**");
            }
        }
    }

    /** Every alert: at least one promtool case where it fires and three where it must stay silent. */
    @Test
    void everyAlertHasFiringAndSilentPromtoolCases() throws IOException {
        Map<String, int[]> cases = new TreeMap<>();
        ALERT_NAMES.forEach(name -> cases.put(name, new int[2]));
        try (Stream<Path> listing = Files.list(TESTS)) {
            for (Path file : listing.filter(p -> p.toString().endsWith(".yml")).toList()) {
                Map<String, Object> doc = new Yaml().load(Files.readString(file));
                for (Map<String, Object> test : maps(doc.get("tests"))) {
                    for (Map<String, Object> alertTest : maps(test.get("alert_rule_test"))) {
                        int[] counts = cases.get((String) alertTest.get("alertname"));
                        assertTrue(counts != null, file + ": unknown alert " + alertTest.get("alertname"));
                        List<?> expected = (List<?>) alertTest.get("exp_alerts");
                        counts[expected == null || expected.isEmpty() ? 1 : 0]++;
                    }
                }
            }
        }
        StringBuilder summary = new StringBuilder();
        cases.forEach((name, c) ->
                summary.append(String.format("%n  %-28s fires in %d cases, silent in %d", name, c[0], c[1])));
        System.out.println("promtool alert cases:" + summary);
        cases.forEach((name, c) -> {
            assertTrue(c[0] >= 1, name + " never expected to fire" + summary);
            assertTrue(c[1] >= 3, name + " silent in fewer than 3 cases" + summary);
        });
    }

    private static Result promtool(String... args) throws IOException, InterruptedException {
        Path binary = PrometheusServer.findBinary("promtool").orElse(null);
        if (binary == null) {
            throw new AssertionError("promtool not found on PATH: " + PrometheusServer.INSTALL_HINT);
        }
        List<String> command = new ArrayList<>(List.of(binary.toString()));
        command.addAll(List.of(args));
        // Output goes to a file so that the wait below stays bounded even if promtool never closes its stdout.
        Path output = Files.createTempFile("promtool", ".out");
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("promtool did not finish within 60 s: " + command);
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            System.out.println("$ " + String.join(" ", command) + "\n" + text);
            return new Result(process.exitValue(), text);
        } finally {
            process.destroyForcibly();
            Files.deleteIfExists(output);
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rules(Path file) throws IOException {
        Map<String, Object> doc = new Yaml().load(Files.readString(file));
        List<Map<String, Object>> rules = new ArrayList<>();
        for (Map<String, Object> group : maps(doc.get("groups"))) {
            rules.addAll((List<Map<String, Object>>) group.get("rules"));
        }
        return rules;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> maps(Object list) {
        return list == null ? List.of() : (List<Map<String, Object>>) list;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> stringMap(Object map) {
        return map == null ? Map.of() : (Map<String, String>) map;
    }
}
