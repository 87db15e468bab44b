package io.gradguard.agent.bench;

import com.sun.net.httpserver.HttpServer;
import io.gradguard.agent.it.LivePagePoller;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./gradguard bench}: the agent's cost per training step against the bare job and against
 * clipping written by hand, on every reference model, then the statistics pass alone against the
 * cost of reading every gradient byte once, then what scrape load on the endpoint costs a job
 * ({@link EndpointLoadBenchmark}), then its start-up cost ({@link StartupBenchmark}).
 * {@code --only startup} (or {@code jobs}, {@code stats-pass}, {@code endpoint}, comma-separated)
 * runs sections alone.
 *
 * <p>Each run is a child JVM of the reference trainer ({@code --loop manual}, so that
 * {@code --hand-clip} runs the same loop); its median step time comes from the trainer's summary
 * JSON and the agent's own overhead from its exit line. Variants alternate within a round and the
 * order reverses every other round (A B C .. C B A), so slow drift of a shared machine cancels
 * instead of landing on one variant.
 */
public final class OverheadBenchmark {

    static final String[] JVM_FLAGS = {
        "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"
    };

    /**
     * The JIT flags the README suggests beside the agent: its code runs once a step, so at the JVM's
     * default thresholds it is compiled fully only after some 5,000 steps; scaled by 0.05, after 250.
     * Only the core (the per-step code): scaling the start-up code too added 130 ms to a first step, against 20.
     */
    static final List<String> AGENT_JIT_FLAGS = List.of(
            "-XX:CompileCommand=quiet", "-XX:CompileCommand=CompileThresholdScaling,io.gradguard.core.*::*,0.05");

    /**
     * One way of running the same training job; {@code {port}} in the agent args becomes a free port,
     * {@code livePage} polls the job's {@code /api/steps} as an open live page does, and {@code jvmArgs}
     * go on the child's command line after {@link #JVM_FLAGS}.
     */
    record Variant(String name, String agentArgs, List<String> trainerArgs, boolean livePage, List<String> jvmArgs) {
        Variant(String name, String agentArgs, List<String> trainerArgs) {
            this(name, agentArgs, trainerArgs, false, List.of());
        }

        Variant(String name, String agentArgs, List<String> trainerArgs, boolean livePage) {
            this(name, agentArgs, trainerArgs, livePage, List.of());
        }

        boolean hasAgent() {
            return agentArgs != null;
        }
    }

    /** One child run's figures. */
    record Run(double medianStepMs, double agentMedianUs, double agentMeanUs, double seconds, boolean diverged) {}

    /** The benchmark's sections, in the order they run. */
    private static final List<String> SECTIONS = List.of("jobs", "stats-pass", "endpoint", "startup");

    private static final Pattern MEDIAN_STEP = Pattern.compile("\"median_step_ms\":([0-9.eE+-]+)");
    private static final Pattern DIVERGED = Pattern.compile("\"diverged\":true,\"divergence_step\":(\\d+)");

    /**
     * Learning rates that keep a model healthy for the benchmark's jobs, where the healthy scenario's
     * 0.1 does not: deep-mlp's 26 layers go non-finite there after 1,300 to 5,000 steps, depending on
     * the CPU's BLAS kernels, and a diverged job's steps (NaN arithmetic, or updates skipped by the
     * agent) are not a healthy job's. At 0.02 it stays finite past 6,000 steps.
     */
    private static final Map<String, String> HEALTHY_RATES = Map.of("deep-mlp", "0.02");

    private static final Pattern AGENT_LINE =
            Pattern.compile("agent overhead per step median ([0-9.]+) us \\(last \\d+ steps\\), mean ([0-9.]+) us");

    /** Batches of 64 in one epoch of Fashion-MNIST's 60,000 training images: longer jobs run more epochs. */
    private static final int STEPS_PER_EPOCH = 60_000 / 64;

    private OverheadBenchmark() {}

    /**
     * Runs the benchmark and prints the table to stdout.
     *
     * @param args {@code --agent JAR --examples JAR} and options, see {@code --help}
     * @throws Exception on a failed child run
     */
    public static void main(String[] args) throws Exception {
        // DJL logs engine start-up at INFO on stderr in this JVM; the table is what matters.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Map<String, String> o = parse(args);
        if (o.containsKey("help")) {
            System.out.println(usage());
            return;
        }
        Path agent = Path.of(require(o, "agent"));
        Path examples = Path.of(require(o, "examples"));
        List<String> models = List.of(
                o.getOrDefault("models", "mlp,cnn,lstm,deep-mlp,wide-mlp").split(","));
        int rounds = Integer.parseInt(o.getOrDefault("rounds", "2"));
        // Long enough that the JIT has compiled the agent's step path for most of the job: its first
        // few hundred steps run it in the interpreter and C1 (see docs/benchmark.md for both figures).
        int steps = Integer.parseInt(o.getOrDefault("steps", "2000"));
        int wideSteps = Integer.parseInt(o.getOrDefault("wide-steps", "30"));
        // Weight norms, update ratios and max |g| are sampled every N steps; 100 is the default this
        // benchmark recommends (the agent's own default is 1 until the lead changes it).
        String monitorArgs = o.getOrDefault("monitor-args", "update_ratio_every=100");
        List<String> only =
                o.containsKey("variants") ? List.of(o.get("variants").split(",")) : null;
        List<String> sections =
                List.of(o.getOrDefault("only", String.join(",", SECTIONS)).split(","));
        for (String section : sections) {
            if (!SECTIONS.contains(section)) {
                throw new IllegalArgumentException("--only " + section + " is not a section; use one or more of "
                        + String.join(",", SECTIONS) + "\n" + usage());
            }
        }
        boolean skipPass = o.containsKey("no-stats-pass") || !sections.contains("stats-pass");
        boolean skipJobs = o.containsKey("no-jobs") || !sections.contains("jobs");
        int startupPairs = Integer.parseInt(o.getOrDefault("startup-pairs", "7"));
        int endpointRuns = Integer.parseInt(o.getOrDefault("endpoint-runs", "2"));
        int endpointWindows = Integer.parseInt(o.getOrDefault("endpoint-windows", "21"));

        String threads = "1 (-Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1, every JVM)";
        System.out.printf(
                Locale.ROOT,
                "gradguard overhead benchmark, %s%n",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        System.out.printf(
                Locale.ROOT,
                "machine: %s, nproc %d, java %s; threads: %s%n",
                cpuModel(),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                threads);

        // monitor-otlp exports to this sink, which answers every export as a Collector does.
        HttpServer otlpSink = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        otlpSink.createContext("/v1/metrics", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                exchange.sendResponseHeaders(200, -1);
            }
        });
        otlpSink.start();
        try {
            runAll(
                    agent,
                    examples,
                    models,
                    rounds,
                    steps,
                    wideSteps,
                    only,
                    skipJobs,
                    variants(
                            monitorArgs,
                            "http://127.0.0.1:" + otlpSink.getAddress().getPort() + "/v1/metrics"));
        } finally {
            otlpSink.stop(0);
        }
        if (!skipPass) {
            StatisticsPassBenchmark.run(System.out);
            io.gradguard.agent.runtime.LiveHistoryBenchmark.run(System.out);
        }
        if (sections.contains("endpoint")) {
            new EndpointLoadBenchmark(agent, endpointRuns, endpointWindows, System.out).run();
        }
        if (sections.contains("startup")) {
            new StartupBenchmark(agent, startupPairs, System.out).run();
        }
    }

    private static void runAll(
            Path agent,
            Path examples,
            List<String> models,
            int rounds,
            int steps,
            int wideSteps,
            List<String> only,
            boolean skipJobs,
            List<Variant> variants)
            throws Exception {
        if (only != null) {
            variants.removeIf(v -> !only.contains(v.name()));
        }
        if (!skipJobs) {
            System.out.printf(
                    Locale.ROOT,
                    "jobs: --loop manual --limit-test 64, %d steps (wide-mlp %d; batches of 64, epochs of at most %d),"
                            + " %d rounds alternating A..Z Z..A, child JVMs %s; median step from --summary JSON%n",
                    steps,
                    wideSteps,
                    STEPS_PER_EPOCH,
                    rounds,
                    String.join(" ", JVM_FLAGS));
            for (Variant v : variants) {
                System.out.printf(
                        Locale.ROOT,
                        "  %-14s %s%s%n",
                        v.name(),
                        (v.jvmArgs().isEmpty() ? "" : String.join(" ", v.jvmArgs()) + " ")
                                + (v.hasAgent() ? "-javaagent:gradguard-agent.jar=" + v.agentArgs() : "no agent"),
                        v.trainerArgs().isEmpty() ? "" : " " + String.join(" ", v.trainerArgs()));
            }
            Path work = Files.createTempDirectory("gradguard-bench");
            Map<String, Map<String, List<Run>>> results = new LinkedHashMap<>();
            long start = System.nanoTime();
            for (int round = 0; round < rounds; round++) {
                for (String model : models) {
                    List<Variant> order = new ArrayList<>(variants);
                    if (round % 2 == 1) {
                        java.util.Collections.reverse(order);
                    }
                    int n = "wide-mlp".equals(model) ? wideSteps : steps;
                    for (Variant v : order) {
                        Run r = runJob(agent, examples, work, model, n, v);
                        results.computeIfAbsent(model, k -> new LinkedHashMap<>())
                                .computeIfAbsent(v.name(), k -> new ArrayList<>())
                                .add(r);
                        System.err.printf(
                                Locale.ROOT,
                                "[bench] round %d %-9s %-14s median step %.3f ms%s (%.1f s)%n",
                                round + 1,
                                model,
                                v.name(),
                                r.medianStepMs(),
                                v.hasAgent() ? String.format(Locale.ROOT, ", agent %.1f us", r.agentMedianUs()) : "",
                                r.seconds());
                    }
                }
            }
            printTable(results, variants);
            System.out.printf(Locale.ROOT, "jobs took %.0f s%n", (System.nanoTime() - start) / 1e9);
        }
    }

    static List<Variant> variants(String monitorArgs, String otlpSink) {
        String base = "port=0,summary=0" + (monitorArgs.isEmpty() ? "" : "," + monitorArgs);
        List<Variant> v = new ArrayList<>();
        v.add(new Variant("bare", null, List.of()));
        v.add(new Variant("monitor", base, List.of()));
        // the same with the agent's code compiled sooner (the README's JIT flags)
        v.add(new Variant("monitor-jit", base, List.of(), false, AGENT_JIT_FLAGS));
        // what the shadow policies, and then the flight recorder's ring too, add to monitoring
        v.add(new Variant("no-shadow", base + ",shadow_policies=false", List.of()));
        v.add(new Variant("no-recorder", base + ",incidents.dir=off,shadow_policies=false", List.of()));
        // the endpoint on (its history fed at every step) and a live page open, polling 4 times a second
        v.add(new Variant("live-page", base.replace("port=0", "port={port}"), List.of(), true));
        // what update_ratio_every=1 costs: weights duplicated, max |g| and norms measured every step
        v.add(new Variant("monitor-ur1", "port=0,summary=0,update_ratio_every=1", List.of()));
        // what the OTLP export adds: every meter recorded into two registries, an export every second
        v.add(new Variant("monitor-otlp", base + ",otlp.endpoint=" + otlpSink + ",otlp.interval=1", List.of()));
        v.add(new Variant("global-norm", base + ",policy.type=global-norm,policy.max_norm=1e-6", List.of()));
        v.add(new Variant("agc", base + ",policy.type=agc", List.of()));
        v.add(new Variant("auto", base + ",policy.type=auto", List.of()));
        v.add(new Variant("hand-clip", null, List.of("--hand-clip", "1e-6")));
        v.add(new Variant("djl-clip-grad", null, List.of("--djl-clip-grad", "1e-3")));
        return v;
    }

    private static Run runJob(Path agent, Path examples, Path work, String model, int steps, Variant v)
            throws IOException, InterruptedException {
        Path summary = work.resolve(model + "-" + v.name() + ".json");
        Files.deleteIfExists(summary);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(JVM_FLAGS));
        cmd.addAll(v.jvmArgs());
        int port = 0;
        if (v.hasAgent()) {
            if (v.agentArgs().contains("{port}")) {
                try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                    port = s.getLocalPort();
                }
            }
            cmd.add("-javaagent:" + agent + "=" + v.agentArgs().replace("{port}", String.valueOf(port)));
        }
        cmd.addAll(List.of(
                "-jar",
                examples.toString(),
                "--model",
                model,
                "--epochs",
                Integer.toString((steps + STEPS_PER_EPOCH - 1) / STEPS_PER_EPOCH),
                "--loop",
                "manual",
                "--max-steps",
                Integer.toString(steps),
                "--limit-train",
                Integer.toString(Math.min(steps, STEPS_PER_EPOCH) * 64),
                "--limit-test",
                "64",
                "--summary",
                summary.toString()));
        if (HEALTHY_RATES.containsKey(model)) {
            cmd.addAll(List.of("--lr", HEALTHY_RATES.get(model)));
        }
        cmd.addAll(v.trainerArgs());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DJL_OFFLINE", "true");
        long t0 = System.nanoTime();
        Process p = pb.start();
        LivePagePoller page = v.livePage() ? LivePagePoller.start(port) : null;
        byte[] out;
        try {
            out = p.getInputStream().readAllBytes();
        } finally {
            if (page != null) {
                page.close();
                System.err.printf(
                        Locale.ROOT, "[bench] live page: %d polls answered, %d rows%n", page.polls(), page.rows());
            }
        }
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(
                    model + " " + v.name() + " failed:\n" + new String(out, StandardCharsets.UTF_8));
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        String output = new String(out, StandardCharsets.UTF_8);
        String summaryJson = Files.readString(summary);
        Matcher m = MEDIAN_STEP.matcher(summaryJson);
        Matcher diverged = DIVERGED.matcher(summaryJson);
        boolean divergedRun = diverged.find();
        if (divergedRun) {
            System.err.printf(
                    Locale.ROOT,
                    "[bench] WARNING: %s %s diverged at step %s: its step times are not a healthy job's (marked !)%n",
                    model,
                    v.name(),
                    diverged.group(1));
        }
        if (!m.find()) {
            throw new IllegalStateException("no median_step_ms in " + summary);
        }
        double agentMedian = Double.NaN;
        double agentMean = Double.NaN;
        Matcher a = AGENT_LINE.matcher(output);
        if (a.find()) {
            agentMedian = Double.parseDouble(a.group(1));
            agentMean = Double.parseDouble(a.group(2));
        } else if (v.hasAgent()) {
            throw new IllegalStateException("no agent exit line:\n" + output);
        }
        return new Run(Double.parseDouble(m.group(1)), agentMedian, agentMean, seconds, divergedRun);
    }

    /** A child JVM that ran to its end: its output (stdout and stderr together) and its wall time. */
    record Finished(String output, double seconds) {}

    /** {@code java} with the benchmark's JVM flags, and the agent when {@code agentArgs} is not null. */
    static List<String> javaCommand(Path agent, String agentArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(JVM_FLAGS));
        if (agentArgs != null) {
            cmd.add("-javaagent:" + agent + "=" + agentArgs);
        }
        return cmd;
    }

    /** Runs a child JVM to its end; a failure or a run past the limit throws with its output. */
    static Finished runToEnd(List<String> cmd, String what, long limitMinutes)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("DJL_OFFLINE", "true");
        long t0 = System.nanoTime();
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(limitMinutes, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(what + " failed:\n" + new String(out, StandardCharsets.UTF_8));
        }
        return new Finished(new String(out, StandardCharsets.UTF_8), (System.nanoTime() - t0) / 1e9);
    }

    private static void printTable(Map<String, Map<String, List<Run>>> results, List<Variant> variants) {
        System.out.println();
        System.out.println(
                "| model | variant | median step ms | x bare (median of the rounds' pairs) | added us (same) | agent's own us, median / mean"
                        + " (exit line) | per-run medians ms |");
        System.out.println("|---|---|---:|---:|---:|---:|---|");
        for (Map.Entry<String, Map<String, List<Run>>> model : results.entrySet()) {
            Map<String, List<Run>> byVariant = model.getValue();
            List<Run> bareRuns = byVariant.get("bare");
            for (Variant v : variants) {
                List<Run> runs = byVariant.get(v.name());
                if (runs == null) {
                    continue;
                }
                double ms = median(runs, Run::medianStepMs);
                String own = v.hasAgent()
                        ? String.format(
                                Locale.ROOT,
                                "%.0f / %.0f",
                                median(runs, Run::agentMedianUs),
                                median(runs, Run::agentMeanUs))
                        : "";
                StringBuilder each = new StringBuilder();
                for (Run r : runs) {
                    each.append(each.length() == 0 ? "" : " ")
                            .append(String.format(Locale.ROOT, "%.2f", r.medianStepMs()))
                            .append(r.diverged() ? "!" : "");
                }
                boolean isBare = "bare".equals(v.name());
                boolean paired = !isBare && bareRuns != null;
                System.out.printf(
                        Locale.ROOT,
                        "| %s | %s | %.3f | %s | %s | %s | %s |%n",
                        model.getKey(),
                        v.name(),
                        ms,
                        isBare
                                ? "1.000"
                                : paired ? String.format(Locale.ROOT, "%.3f", pairMedian(runs, bareRuns, true)) : "",
                        paired ? String.format(Locale.ROOT, "%+.0f", pairMedian(runs, bareRuns, false) * 1000) : "",
                        own,
                        each);
            }
        }
        boolean anyDiverged = results.values().stream()
                .flatMap(byVariant -> byVariant.values().stream())
                .flatMap(List::stream)
                .anyMatch(Run::diverged);
        if (anyDiverged) {
            System.out.println("! the job diverged (non-finite or past the loss bound): not a healthy job's steps");
        }
    }

    /**
     * The median over the rounds of each round's variant run against its bare run (its ratio, or
     * its difference in ms): the two ran in the same round, so the machine's drift between rounds,
     * which moves a bare job's median by a fifth here, cancels out of each pair.
     */
    static double pairMedian(List<Run> runs, List<Run> bareRuns, boolean ratio) {
        List<Double> pairs = new ArrayList<>();
        for (int i = 0; i < Math.min(runs.size(), bareRuns.size()); i++) {
            double v = runs.get(i).medianStepMs();
            double b = bareRuns.get(i).medianStepMs();
            pairs.add(ratio ? v / b : v - b);
        }
        return median(pairs, Double::doubleValue);
    }

    /** Median over the rounds' figures (the mean of the middle two for an even count). */
    static <T> double median(List<T> runs, java.util.function.ToDoubleFunction<T> f) {
        double[] v = runs.stream().mapToDouble(f).sorted().toArray();
        int n = v.length;
        return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + a + "\n" + usage());
            }
            String key = a.substring(2);
            if (key.equals("help") || key.equals("no-stats-pass") || key.equals("no-jobs")) {
                o.put(key, "");
            } else if (i + 1 < args.length) {
                o.put(key, args[++i]);
            } else {
                throw new IllegalArgumentException(a + " needs a value\n" + usage());
            }
        }
        return o;
    }

    private static String require(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required\n" + usage());
        }
        return v;
    }

    private static String usage() {
        return String.join(
                "\n",
                "usage: OverheadBenchmark --agent JAR --examples JAR [options]",
                "  --models LIST       default mlp,cnn,lstm,deep-mlp,wide-mlp",
                "  --variants LIST     subset of bare,monitor,monitor-jit,no-shadow,no-recorder,monitor-ur1,monitor-otlp,live-page,global-norm,agc,auto,hand-clip,djl-clip-grad",
                "  --rounds N          default 2 (order reverses every other round)",
                "  --steps N           optimizer steps per job, default 2000 (300 shows the warm-up)",
                "  --wide-steps N      steps for wide-mlp, default 30",
                "  --monitor-args A    agent args added to monitor, global-norm, agc; default update_ratio_every=100",
                "  --no-jobs           skip the training jobs",
                "  --no-stats-pass     skip the in-process statistics pass and live history",
                "  --only LIST         sections to run, of " + String.join(",", SECTIONS) + " (default all)",
                "  --endpoint-runs N   endpoint-load jobs, default 2",
                "  --endpoint-windows N  alternating quiet and loaded 2 s windows per endpoint-load job, default 21",
                "  --startup-pairs N   bare/agent pairs per start-up measure, default 7");
    }
}
