package io.gradguard.grafana;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dashboards/gradguard.json: structure, the metric contract, and every query parsed by a real Prometheus. */
final class DashboardJsonTest {

    private static final String DATASOURCE_UID = "${datasource}";
    private static final Pattern RATE_CALL = Pattern.compile("\\b(rate|irate|increase)\\s*\\(");
    private static final Pattern RANGE = Pattern.compile("\\[([^\\]]*)]");
    private static final Pattern METRIC = Pattern.compile("\\bgradguard_\\w+");

    @TempDir
    static Path workDir;

    private static GrafanaDashboard dashboard;
    private static PrometheusServer prometheus;

    @BeforeAll
    static void loadDashboardAndStartPrometheus() throws Exception {
        dashboard = GrafanaDashboard.load();
        // No scrape target: the queries only have to parse. The rules are loaded so that their names exist.
        prometheus = PrometheusServer.start(
                workDir, """
                global:
                  evaluation_interval: 15s
                rule_files:
                  - %s
                  - %s
                scrape_configs: []
                """.formatted(MetricContract.RULES.toAbsolutePath(), MetricContract.ALERTS.toAbsolutePath()));
    }

    @AfterAll
    static void stopPrometheus() {
        if (prometheus != null) {
            prometheus.close();
        }
    }

    @Test
    void isValidJsonWithStableIdentity() throws IOException {
        JsonNode root = new ObjectMapper().readTree(Files.readString(GrafanaDashboard.FILE));
        assertEquals("gradguard-main", root.path("uid").asText());
        assertEquals(39, root.path("schemaVersion").asInt());
        assertFalse(root.path("title").asText().isBlank(), "title");
        assertTrue(root.path("templating").path("list").isArray(), "templating.list");
        assertTrue(
                dashboard.panels().size() >= 10, "panels: " + dashboard.panels().size());
    }

    @Test
    void declaresTheFilterVariables() {
        JsonNode datasource = dashboard.variable("datasource");
        assertNotNull(datasource, "variable datasource");
        assertEquals("datasource", datasource.path("type").asText());
        assertEquals("prometheus", datasource.path("query").asText());
        for (String name : List.of("job", "instance", "model", "run", "parameter")) {
            JsonNode variable = dashboard.variable(name);
            assertNotNull(variable, "variable " + name);
            assertEquals("query", variable.path("type").asText(), name);
            assertEquals(DATASOURCE_UID, variable.path("datasource").path("uid").asText(), name);
            String definition = variable.path("query").path("query").asText();
            assertTrue(
                    definition.startsWith("label_values(") && definition.endsWith(", " + name + ")"),
                    name + ": " + definition);
        }
        JsonNode parameter = dashboard.variable("parameter");
        assertTrue(parameter.path("multi").asBoolean(), "parameter is multi-select");
        assertTrue(parameter.path("includeAll").asBoolean(), "parameter has All");
    }

    @Test
    void everyPanelHasTitleDescriptionDatasourceUnitAndTargets() {
        List<String> problems = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.panels()) {
            String title = panel.path("title").asText();
            if (title.isBlank()) {
                problems.add("panel " + panel.path("id") + " has no title");
            }
            if (!ids.add(panel.path("id").asInt())) {
                problems.add(title + ": duplicate id " + panel.path("id"));
            }
            if (panel.path("description").asText().isBlank()) {
                problems.add(title + ": no description");
            }
            if (!DATASOURCE_UID.equals(panel.path("datasource").path("uid").asText())) {
                problems.add(title + ": datasource is not ${datasource}");
            }
            if (panel.path("fieldConfig").path("defaults").path("unit").asText().isBlank()) {
                problems.add(title + ": no fieldConfig.defaults.unit");
            }
            if (!List.of("timeseries", "stat", "table", "heatmap")
                    .contains(panel.path("type").asText())) {
                problems.add(title + ": type " + panel.path("type"));
            }
            JsonNode targets = panel.path("targets");
            if (!targets.isArray() || targets.isEmpty()) {
                problems.add(title + ": no targets");
            }
            for (JsonNode target : targets) {
                if (target.path("expr").asText().isBlank()) {
                    problems.add(title + ": target " + target.path("refId") + " has no expr");
                }
                if (!DATASOURCE_UID.equals(target.path("datasource").path("uid").asText())) {
                    problems.add(title + ": target " + target.path("refId") + " datasource is not ${datasource}");
                }
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void rowsGroupThePanelsBelowThemAndShowNoData() {
        Set<Integer> ids = new HashSet<>();
        dashboard.panels().forEach(panel -> ids.add(panel.path("id").asInt()));
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> metricsByRow = new LinkedHashMap<>();
        String row = null;
        int rowY = -1;
        for (JsonNode panel : dashboard.root.path("panels")) {
            JsonNode pos = panel.path("gridPos");
            if (!"row".equals(panel.path("type").asText())) {
                if (row != null) {
                    if (pos.path("y").asInt() <= rowY) {
                        problems.add(panel.path("title").asText() + " is not below row " + row);
                    }
                    for (JsonNode target : panel.path("targets")) {
                        Matcher m = METRIC.matcher(target.path("expr").asText());
                        while (m.find()) {
                            metricsByRow.get(row).add(m.group());
                        }
                    }
                }
                continue;
            }
            row = panel.path("title").asText();
            rowY = pos.path("y").asInt();
            metricsByRow.put(row, new ArrayList<>());
            if (row.isBlank()) {
                problems.add("row " + panel.path("id") + " has no title");
            }
            if (!ids.add(panel.path("id").asInt())) {
                problems.add("row " + row + ": duplicate id " + panel.path("id"));
            }
            if (pos.path("x").asInt() != 0
                    || pos.path("w").asInt() != 24
                    || pos.path("h").asInt() != 1) {
                problems.add("row " + row + ": gridPos " + pos);
            }
            if (panel.has("targets")) {
                problems.add("row " + row + " has targets");
            }
            // open: its panels follow it in the list, and one nested as well would be shown twice
            if (!panel.path("collapsed").asBoolean(false)
                    && !panel.path("panels").isEmpty()) {
                problems.add("open row " + row + " nests panels");
            }
        }
        assertEquals(List.of(), problems);
        assertEquals(List.of("Recovery", "Incidents and shadow policies"), List.copyOf(metricsByRow.keySet()));
        assertTrue(
                metricsByRow
                        .get("Recovery")
                        .containsAll(List.of(
                                "gradguard_recoveries_total", "gradguard_lr_scale", "gradguard_rewound_steps_total")),
                metricsByRow.toString());
        assertTrue(
                metricsByRow
                        .get("Incidents and shadow policies")
                        .containsAll(List.of(
                                "gradguard_incidents_total",
                                "gradguard_shadow_clip_total",
                                "gradguard_shadow_clip_coefficient")),
                metricsByRow.toString());
    }

    @Test
    void everyExportedSeriesIsOnAPanel() {
        Set<String> shown = new HashSet<>();
        for (GrafanaDashboard.Query query : dashboard.panelQueries()) {
            Matcher m = METRIC.matcher(query.expr());
            while (m.find()) {
                shown.add(m.group());
            }
        }
        // The histogram's own count, sum and max add nothing to the quantile that its buckets give.
        Set<String> notShown = Set.of(
                "gradguard_grad_global_norm_distribution_count",
                "gradguard_grad_global_norm_distribution_sum",
                "gradguard_grad_global_norm_distribution_max");
        List<String> missing = MetricContract.SCRAPED.stream()
                .filter(name -> !shown.contains(name) && !notShown.contains(name))
                .sorted()
                .toList();
        assertEquals(List.of(), missing, "exported series no panel shows");
    }

    @Test
    void queriesUseOnlyContractMetricsAndRecordingRules() throws IOException {
        Set<String> recorded = new HashSet<>(MetricContract.recordingRules());
        List<String> problems = new ArrayList<>();
        for (GrafanaDashboard.Query query : dashboard.allQueries()) {
            Set<String> unknown = MetricContract.unknownNames(query.expr(), recorded);
            if (!unknown.isEmpty()) {
                problems.add(query.origin() + " uses " + unknown);
            }
            if (!query.expr().contains("gradguard_")) {
                problems.add(query.origin() + " reads no gradguard series: " + query.expr());
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void queriesFilterOnTheDashboardVariables() {
        List<String> problems = new ArrayList<>();
        // A heatmap shows every parameter $parameter selects, one row each; line panels the top 10.
        Set<String> heatmaps = new HashSet<>();
        for (JsonNode panel : dashboard.panels()) {
            if ("heatmap".equals(panel.path("type").asText())) {
                heatmaps.add("panel '" + panel.path("title").asText() + "' ");
            }
        }
        for (GrafanaDashboard.Query query : dashboard.panelQueries()) {
            String expr = query.expr();
            // agent_errors and config_reloads carry no model label (metric contract).
            boolean modelless =
                    expr.contains("gradguard_agent_errors_total") || expr.contains("gradguard_config_reloads_total");
            for (String label :
                    modelless ? List.of("job", "instance", "run") : List.of("job", "instance", "model", "run")) {
                if (!expr.contains(label + "=~\"$" + label + "\"")) {
                    problems.add(query.origin() + " does not filter on " + label);
                }
            }
            boolean perParameter = expr.contains("gradguard_grad_norm{")
                    || expr.contains("gradguard_grad_max_abs")
                    || expr.contains("gradguard_param_norm")
                    || expr.contains("gradguard_update_ratio");
            if (perParameter && !expr.contains("parameter=~\"$parameter\"")) {
                problems.add(query.origin() + " does not filter on parameter");
            }
            boolean heatmap = heatmaps.stream().anyMatch(query.origin()::startsWith);
            if (perParameter && !heatmap && !expr.startsWith("topk(10,")) {
                problems.add(query.origin() + " per-parameter query is not topk(10, ...)");
            }
        }
        assertEquals(List.of(), problems);
    }

    @Test
    void perParameterHeatmapShowsEveryParameterOnALogScale() {
        JsonNode heatmap = null;
        for (JsonNode panel : dashboard.panels()) {
            if ("heatmap".equals(panel.path("type").asText())) {
                heatmap = panel;
            }
        }
        assertNotNull(heatmap, "a heatmap panel");
        JsonNode target = heatmap.path("targets").path(0);
        assertEquals(
                "log10(gradguard_grad_norm{job=~\"$job\", instance=~\"$instance\", model=~\"$model\", run=~\"$run\","
                        + " parameter=~\"$parameter\"})",
                target.path("expr").asText());
        assertEquals("{{parameter}}", target.path("legendFormat").asText(), "one row per parameter");
        assertEquals("time_series", target.path("format").asText());
        // The series are the rows as they are: Grafana must not bucket the values into a histogram.
        assertFalse(heatmap.path("options").path("calculate").asBoolean(true), "options.calculate");
        assertEquals(24, heatmap.path("gridPos").path("w").asInt(), "full width");
    }

    @Test
    void everyRateAndIncreaseUsesRateInterval() {
        List<String> problems = new ArrayList<>();
        int calls = 0;
        for (GrafanaDashboard.Query query : dashboard.allQueries()) {
            String expr = query.expr();
            Matcher call = RATE_CALL.matcher(expr);
            while (call.find()) {
                calls++;
                String argument = expr.substring(call.end(), closingParen(expr, call.end() - 1));
                if (!argument.strip().endsWith("[$__rate_interval]")) {
                    problems.add(query.origin() + ": " + call.group(1) + "(" + argument + ")");
                }
            }
            Matcher range = RANGE.matcher(expr);
            while (range.find()) {
                if (!"$__rate_interval".equals(range.group(1))) {
                    problems.add(query.origin() + ": range [" + range.group(1) + "]");
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(calls >= 10, "rate/increase calls checked: " + calls);
    }

    @Test
    void everyQueryParsesInPrometheus() throws Exception {
        List<String> problems = new ArrayList<>();
        List<GrafanaDashboard.Query> queries = dashboard.allQueries();
        for (GrafanaDashboard.Query query : queries) {
            String expr = GrafanaDashboard.substitute(query.expr(), "1m");
            JsonNode response = prometheus.query(expr);
            if (!"success".equals(response.path("status").asText())) {
                problems.add(query.origin() + ": " + response.path("error").asText() + "\n    " + expr);
            }
        }
        System.out.printf(
                "DashboardJsonTest: %d queries sent to %s, %d rejected%n",
                queries.size(), prometheus.baseUri(), problems.size());
        assertEquals(List.of(), problems);
        assertTrue(queries.size() >= 20, "queries: " + queries.size());
    }

    /** Index of the parenthesis closing the one at {@code open}. */
    private static int closingParen(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new AssertionError("unbalanced parentheses: " + s);
    }
}
