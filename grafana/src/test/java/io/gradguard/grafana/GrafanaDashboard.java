package io.gradguard.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** dashboards/gradguard.json as the tests see it: its panels' queries, the annotation and variable queries. */
final class GrafanaDashboard {

    static final Path FILE = Path.of("dashboards", "gradguard.json");

    /** One PromQL expression with where it came from, for failure messages. */
    record Query(String origin, String expr) {}

    private static final Pattern LABEL_VALUES =
            Pattern.compile("^\\s*label_values\\((.*),\\s*(\\w+)\\s*\\)\\s*$", Pattern.DOTALL);
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::\\w+)?}|\\$(\\w+)");

    final JsonNode root;

    private GrafanaDashboard(JsonNode root) {
        this.root = root;
    }

    static GrafanaDashboard load() throws IOException {
        return new GrafanaDashboard(new ObjectMapper().readTree(FILE.toFile()));
    }

    /** The panels that show data, in file order: rows left out, the panels of a collapsed row included. */
    List<JsonNode> panels() {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode panel : root.path("panels")) {
            if (isRow(panel)) {
                // a collapsed row holds its panels; an open one is followed by them
                panel.path("panels").forEach(panels::add);
            } else {
                panels.add(panel);
            }
        }
        return panels;
    }

    /** The rows, which only group the panels after them. */
    List<JsonNode> rows() {
        List<JsonNode> rows = new ArrayList<>();
        for (JsonNode panel : root.path("panels")) {
            if (isRow(panel)) {
                rows.add(panel);
            }
        }
        return rows;
    }

    private static boolean isRow(JsonNode panel) {
        return "row".equals(panel.path("type").asText());
    }

    /** Every panel target's expression. */
    List<Query> panelQueries() {
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : panels()) {
            for (JsonNode target : panel.path("targets")) {
                queries.add(new Query(
                        "panel '" + panel.path("title").asText() + "' target "
                                + target.path("refId").asText(),
                        target.path("expr").asText()));
            }
        }
        return queries;
    }

    /** Annotation queries (the built-in Grafana one has no expr and is left out). */
    List<Query> annotationQueries() {
        List<Query> queries = new ArrayList<>();
        for (JsonNode annotation : root.path("annotations").path("list")) {
            if (annotation.hasNonNull("expr")) {
                queries.add(new Query(
                        "annotation '" + annotation.path("name").asText() + "'",
                        annotation.path("expr").asText()));
            }
        }
        return queries;
    }

    /** The series selector inside each {@code label_values(selector, label)} variable query. */
    List<Query> variableSelectors() {
        List<Query> queries = new ArrayList<>();
        for (JsonNode variable : root.path("templating").path("list")) {
            if (!"query".equals(variable.path("type").asText())) {
                continue;
            }
            String definition = variable.path("query")
                    .path("query")
                    .asText(variable.path("definition").asText());
            Matcher m = LABEL_VALUES.matcher(definition);
            if (m.matches()) {
                queries.add(new Query("variable $" + variable.path("name").asText(), m.group(1)));
            } else {
                queries.add(new Query("variable $" + variable.path("name").asText(), definition));
            }
        }
        return queries;
    }

    List<Query> allQueries() {
        List<Query> all = new ArrayList<>(panelQueries());
        all.addAll(annotationQueries());
        all.addAll(variableSelectors());
        return all;
    }

    JsonNode variable(String name) {
        for (JsonNode variable : root.path("templating").path("list")) {
            if (name.equals(variable.path("name").asText())) {
                return variable;
            }
        }
        return null;
    }

    /**
     * {@code expr} as Prometheus would receive it from Grafana with every variable on "All" (a regex that
     * matches anything) and {@code $__rate_interval} set to {@code rateInterval}.
     */
    static String substitute(String expr, String rateInterval) {
        return substitute(expr, rateInterval, Map.of());
    }

    /** As {@link #substitute(String, String)}, with the variables in {@code values} set to those regexes. */
    static String substitute(String expr, String rateInterval, Map<String, String> values) {
        String withInterval = expr.replace("$__rate_interval", rateInterval);
        Matcher m = VARIABLE.matcher(withInterval);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1) != null ? m.group(1) : m.group(2);
            m.appendReplacement(out, Matcher.quoteReplacement(values.getOrDefault(name, ".*")));
        }
        m.appendTail(out);
        return out.toString();
    }
}
