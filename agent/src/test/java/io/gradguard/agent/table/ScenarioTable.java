package io.gradguard.agent.table;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code ./gradguard table}: every scenario of the reference trainer, with each optimizer variant,
 * under every policy and without the agent, next to its healthy twin (the same job without the
 * fault, {@code --no-fault}). Each cell is one child JVM with the seed fixed and one PyTorch thread;
 * the result is the Markdown table of the README (diverged? test accuracy).
 *
 * <p>Arguments: {@code --agent JAR --examples JAR [--steps N] [--only ROW,...] [--variants COLUMN,...]
 * [--jobs N] [--digests]}. A row is a scenario ({@code lr-jump}: all its optimizer variants) or
 * {@code scenario:variant} ({@code lr-jump:adam}); a column is one of {@link #COLUMNS}' ids.
 * {@code --jobs} runs that many cells at once; {@code --digests} lists every cell's weights SHA-256
 * after the table, which is how parallel runs are shown to give the same results as sequential ones.
 */
public final class ScenarioTable {

    /** One optimizer setting of the reference trainer. */
    record Variant(String id, String title, List<String> args) {}

    /** One line of the table: a scenario under one optimizer variant. */
    record Row(String scenario, Variant variant) {
        String id() {
            return scenario + ":" + variant.id();
        }
    }

    /** One column: the healthy twin, the job without the agent, or the agent with {@code agentArgs}. */
    record Column(String id, String title, boolean twin, String agentArgs) {}

    /** What one child JVM reported; {@code failure} is set when it printed no result line. */
    record Cell(
            double accuracy,
            double trainAccuracy,
            boolean diverged,
            String divergenceStep,
            String digest,
            Map<String, Integer> recoveries,
            String rejection,
            String failure) {

        String text() {
            if (failure != null) {
                return failure;
            }
            String result = String.format(Locale.ROOT, "%.4f", accuracy);
            result = diverged ? "DIVERGED (" + divergenceStep + "), " + result : result;
            return rejection == null ? result : result + " (agent rejected its args\u00b9)";
        }
    }

    static final Variant SGD = new Variant("sgd", "SGD", List.of());
    static final Variant MOMENTUM = new Variant("momentum", "SGD + momentum 0.9", List.of("--momentum", "0.9"));
    static final Variant ADAM = new Variant("adam", "Adam", List.of("--optimizer", "adam"));

    /** Healthy and the mid-training scenarios with every optimizer; the start-of-training ones with plain SGD. */
    static final List<Row> ROWS = Stream.of(
                    Stream.of("healthy")
                            .flatMap(s -> Stream.of(SGD, MOMENTUM, ADAM).map(v -> new Row(s, v))),
                    Stream.of("explode-lr", "explode-init", "explode-rnn", "nan-inject")
                            .map(s -> new Row(s, SGD)),
                    Stream.of("lr-jump", "corrupt-batches")
                            .flatMap(s -> Stream.of(SGD, MOMENTUM, ADAM).map(v -> new Row(s, v))))
            .flatMap(rows -> rows)
            .toList();

    static final List<Column> COLUMNS = List.of(
            new Column("twin", "healthy twin (no agent)", true, null),
            new Column("none", "no agent", false, null),
            new Column("monitoring", "monitoring only", false, "policy.type=none"),
            new Column("global-norm", "global-norm 1.0", false, "policy.type=global-norm,policy.max_norm=1.0"),
            new Column("value", "value 0.1", false, "policy.type=value,policy.clip_value=0.1"),
            new Column("agc", "agc 0.01", false, "policy.type=agc"),
            new Column("percentile", "percentile 10", false, "policy.type=percentile"),
            new Column("zscore", "zscore", false, "policy.type=zscore"),
            new Column("auto", "auto", false, "policy.type=auto"),
            new Column("auto-twin", "auto on the twin", true, "policy.type=auto"));

    private static final Pattern DONE =
            Pattern.compile("done: \\d+ steps, test accuracy ([0-9.]+), diverged (\\w+)( \\(step (\\d+)\\))?"
                    + ".*weights sha256 ([0-9a-f]+)");
    /** The last epoch's line: its training accuracy is the mean over every batch of the epoch. */
    private static final Pattern EPOCH = Pattern.compile("epoch \\d+: loss \\S+, train acc ([0-9.]+|NaN)");
    /** The agent's exit line, e.g. {@code recoveries: skip 11, backoff 1, rewind 1, fail 0, agent overhead ...}. */
    private static final Pattern RECOVERIES = Pattern.compile("recoveries: ((?:[a-z]+ \\d+, )+)agent overhead");

    private static final Pattern COUNT = Pattern.compile("([a-z]+) (\\d+)");
    /** The agent's own line when an argument could not be used and protection is off. */
    private static final Pattern REJECTION = Pattern.compile("(?m)^\\[gradguard\\] (.*(?:is not|must be|unknown).*)$");

    private ScenarioTable() {}

    public static void main(String[] args) throws Exception {
        Settings settings;
        try {
            settings = Settings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.print(render(settings, measure(settings)));
    }

    /** Runs every selected cell, {@code settings.jobs} at a time; rows and columns in the table's order. */
    static Map<Row, Map<Column, Cell>> measure(Settings settings) throws InterruptedException, ExecutionException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Map<Row, Map<Column, Future<Cell>>> pending = new LinkedHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(settings.jobs);
        try {
            for (Row row : settings.rows) {
                Map<Column, Future<Cell>> line = new LinkedHashMap<>();
                for (Column column : settings.columns) {
                    line.put(column, pool.submit(() -> run(java, settings, row, column)));
                }
                pending.put(row, line);
            }
            Map<Row, Map<Column, Cell>> cells = new LinkedHashMap<>();
            for (Map.Entry<Row, Map<Column, Future<Cell>>> line : pending.entrySet()) {
                Map<Column, Cell> done = new LinkedHashMap<>();
                for (Map.Entry<Column, Future<Cell>> e : line.getValue().entrySet()) {
                    done.put(e.getKey(), e.getValue().get());
                }
                cells.put(line.getKey(), done);
            }
            return cells;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The Markdown table with its heading line, the agent's rejections under it and, if asked, the digests. */
    static String render(Settings settings, Map<Row, Map<Column, Cell>> cells) {
        Column twin = find(settings.columns, "twin");
        Column auto = find(settings.columns, "auto");
        StringBuilder out = new StringBuilder(String.format(
                Locale.ROOT,
                "Scenario x policy, reference trainer, seed 42,"
                        + " %d optimizer steps (batch 64), test accuracy on 1,000 test images; %s, %d cores, 1 PyTorch"
                        + " thread per run, %d run%s at a time. Cell: test accuracy, or DIVERGED (first diverged step),"
                        + " accuracy.%n%n",
                settings.steps,
                LocalDate.now(),
                Runtime.getRuntime().availableProcessors(),
                settings.jobs,
                settings.jobs == 1 ? "" : "s"));
        StringBuilder header = new StringBuilder("| scenario | optimizer |");
        StringBuilder rule = new StringBuilder("|---|---|");
        for (Column c : settings.columns) {
            header.append(' ').append(c.title()).append(" |");
            rule.append("---|");
        }
        if (twin != null && auto != null) {
            header.append(" auto - twin (points) |");
            rule.append("---|");
        }
        Column autoTwin = find(settings.columns, "auto-twin");
        if (auto != null) {
            header.append(" auto: recoveries |");
            rule.append("---|");
        }
        if (autoTwin != null) {
            header.append(" auto on the twin: recoveries |");
            rule.append("---|");
        }
        out.append(header).append('\n').append(rule).append('\n');
        Set<String> rejections = new LinkedHashSet<>();
        List<String> digests = new ArrayList<>();
        for (Map.Entry<Row, Map<Column, Cell>> line : cells.entrySet()) {
            Row row = line.getKey();
            Map<Column, Cell> done = line.getValue();
            out.append("| ")
                    .append(row.scenario())
                    .append(" | ")
                    .append(row.variant().title())
                    .append(" |");
            for (Map.Entry<Column, Cell> e : done.entrySet()) {
                Cell cell = e.getValue();
                out.append(' ').append(cell.text()).append(" |");
                if (cell.rejection() != null) {
                    rejections.add(cell.rejection());
                }
                digests.add(row.id() + " " + e.getKey().id() + " " + (cell.digest() == null ? "-" : cell.digest()));
            }
            if (twin != null && auto != null) {
                out.append(' ').append(gap(done.get(auto), done.get(twin))).append(" |");
            }
            if (auto != null) {
                out.append(' ').append(recoveries(done.get(auto))).append(" |");
            }
            if (autoTwin != null) {
                out.append(' ').append(recoveries(done.get(autoTwin))).append(" |");
            }
            out.append('\n');
        }
        if (!rejections.isEmpty()) {
            out.append('\n');
            for (String r : rejections) {
                out.append("\u00b9 the agent said: `").append(r).append("`\n");
            }
        }
        if (settings.digests) {
            out.append("\nweights sha256 per cell (row column digest):\n");
            digests.forEach(d -> out.append(d).append('\n'));
        }
        return out.toString();
    }

    /** Points of test accuracy that auto is above (+) or below (-) the twin. */
    private static String gap(Cell auto, Cell twin) {
        if (auto.failure() != null || twin.failure() != null) {
            return "-";
        }
        String points = String.format(Locale.ROOT, "%+.1f", 100 * (auto.accuracy() - twin.accuracy()));
        return auto.rejection() == null ? points : points + " (without the agent)";
    }

    private static String recoveries(Cell auto) {
        if (auto.failure() != null || auto.rejection() != null) {
            return "-";
        }
        if (auto.recoveries().isEmpty()) {
            return "none";
        }
        return auto.recoveries().entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue())
                .collect(Collectors.joining(", "));
    }

    private static Column find(List<Column> columns, String id) {
        return columns.stream().filter(c -> c.id().equals(id)).findFirst().orElse(null);
    }

    static Cell run(String java, Settings settings, Row row, Column column) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(
                java,
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1"));
        if (column.agentArgs() != null) {
            cmd.add("-javaagent:" + settings.agent + "=port=0,summary=0,update_ratio_every=0," + column.agentArgs());
        }
        cmd.addAll(List.of(
                "-jar",
                settings.examples,
                "--scenario",
                row.scenario(),
                "--max-steps",
                String.valueOf(settings.steps),
                "--epochs",
                "1",
                "--limit-train",
                String.valueOf(settings.steps * 64),
                "--limit-test",
                "1000"));
        cmd.addAll(row.variant().args());
        if (column.twin()) {
            cmd.add("--no-fault");
        }
        // Each run in its own directory: whatever a job or the agent writes to the working directory stays apart.
        Path dir = Files.createTempDirectory("scenario-table");
        Path log = dir.resolve("output.log");
        try {
            Process p = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            if (!p.waitFor(600, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return failed("timeout");
            }
            String out = Files.readString(log);
            Cell cell = parse(out, p.exitValue());
            if (cell.failure() != null) {
                // the table says only that it failed; the why goes to stderr, apart from the table
                System.err.printf(
                        "%s, %s: %s; its last output:%n%s%n",
                        row.id(),
                        column.id(),
                        cell.failure(),
                        out.lines().skip(Math.max(0, out.lines().count() - 15)).collect(Collectors.joining("\n")));
            }
            return cell;
        } finally {
            deleteTree(dir);
        }
    }

    /** Reads a cell from the job's output and the agent's lines in it. */
    static Cell parse(String out, int exitCode) {
        Matcher m = DONE.matcher(out);
        if (!m.find()) {
            return failed("failed (exit " + exitCode + ")");
        }
        Map<String, Integer> recoveries = new LinkedHashMap<>();
        Matcher r = RECOVERIES.matcher(out);
        if (r.find()) {
            Matcher count = COUNT.matcher(r.group(1));
            while (count.find()) {
                recoveries.put(count.group(1), Integer.parseInt(count.group(2)));
            }
        }
        String rejection = null;
        if (out.contains("NOT PROTECTING") || out.contains("gradguard is not installed")) {
            Matcher reason = REJECTION.matcher(out);
            rejection = reason.find() ? reason.group(1) : "protection off (see the job's output)";
        }
        double trainAccuracy = Double.NaN;
        for (Matcher e = EPOCH.matcher(out); e.find(); ) {
            trainAccuracy = Double.parseDouble(e.group(1));
        }
        return new Cell(
                Double.parseDouble(m.group(1)),
                trainAccuracy,
                m.group(2).equals("true"),
                m.group(4),
                m.group(5),
                recoveries,
                rejection,
                null);
    }

    private static Cell failed(String why) {
        return new Cell(Double.NaN, Double.NaN, false, null, null, Map.of(), null, why);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.delete(path);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    /** The command line, checked: one line naming the problem for anything it does not know. */
    static final class Settings {
        private static final List<String> VALUED =
                List.of("--agent", "--examples", "--steps", "--only", "--variants", "--jobs");

        String agent;
        String examples;
        int steps = 300;
        int jobs = 1;
        boolean digests;
        List<Row> rows = ROWS;
        List<Column> columns = COLUMNS;

        static Settings parse(String... args) {
            Settings s = new Settings();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                if (option.equals("--digests")) {
                    s.digests = true;
                    continue;
                }
                if (!VALUED.contains(option)) {
                    throw new IllegalArgumentException(
                            "unknown argument " + option + " (use " + String.join(", ", VALUED) + ", --digests)");
                }
                String value = required(option, i + 1 < args.length ? args[++i] : null);
                switch (option) {
                    case "--agent" -> s.agent = value;
                    case "--examples" -> s.examples = value;
                    case "--steps" -> s.steps = positive(option, value);
                    case "--jobs" -> s.jobs = positive(option, value);
                    case "--only" -> s.rows = rows(value);
                    default -> s.columns = columns(value);
                }
            }
            if (s.agent == null || s.examples == null) {
                throw new IllegalArgumentException("--agent JAR and --examples JAR are needed");
            }
            // absolute: every run has its own working directory
            s.agent = Path.of(s.agent).toAbsolutePath().toString();
            s.examples = Path.of(s.examples).toAbsolutePath().toString();
            return s;
        }

        private static String required(String option, String value) {
            if (value == null || value.startsWith("--")) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return value;
        }

        private static int positive(String option, String value) {
            try {
                int n = Integer.parseInt(value);
                if (n > 0) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // said below
            }
            throw new IllegalArgumentException(option + " takes a positive whole number, got " + value);
        }

        /** Rows named by scenario (all its variants) or scenario:variant, in the table's order. */
        private static List<Row> rows(String spec) {
            Set<String> wanted = Set.of(spec.split(","));
            for (String w : wanted) {
                if (ROWS.stream().noneMatch(r -> r.scenario().equals(w) || r.id().equals(w))) {
                    throw new IllegalArgumentException("--only: no row " + w + "; rows are "
                            + ROWS.stream().map(Row::id).collect(Collectors.joining(",")) + " (a scenario alone"
                            + " selects all its variants)");
                }
            }
            return ROWS.stream()
                    .filter(r -> wanted.contains(r.scenario()) || wanted.contains(r.id()))
                    .toList();
        }

        private static List<Column> columns(String spec) {
            Set<String> wanted = Set.of(spec.split(","));
            for (String w : wanted) {
                if (find(COLUMNS, w) == null) {
                    throw new IllegalArgumentException("--variants: no column " + w + "; columns are "
                            + COLUMNS.stream().map(Column::id).collect(Collectors.joining(",")));
                }
            }
            return COLUMNS.stream().filter(c -> wanted.contains(c.id())).toList();
        }
    }
}
