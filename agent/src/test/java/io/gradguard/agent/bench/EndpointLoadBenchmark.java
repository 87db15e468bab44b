package io.gradguard.agent.bench;

import io.gradguard.agent.it.EndpointLoad;
import io.gradguard.agent.jobs.JobClassPath;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The endpoint section of {@code ./gradguard bench}: what 32 concurrent scrapers and 4 open live
 * pages cost a training job's step time ({@link EndpointLoad}: quiet and loaded 2 s windows
 * alternate inside one job). Each loaded window is compared with its two quiet neighbours, so a
 * drift of the machine's speed over the run lands on both sides; the figure is the median of those
 * window ratios, per run and over all runs.
 */
final class EndpointLoadBenchmark {

    private final Path agentJar;
    private final int runs;
    private final int windows;
    private final PrintStream out;

    EndpointLoadBenchmark(Path agentJar, int runs, int windows, PrintStream out) {
        if (windows < 3) {
            throw new IllegalArgumentException("--endpoint-windows " + windows
                    + " is too few: a loaded window needs a quiet one on each side; use 3 or more");
        }
        this.agentJar = agentJar;
        this.runs = runs;
        this.windows = windows;
        this.out = out;
    }

    void run() throws Exception {
        out.printf(
                Locale.ROOT,
                "%nendpoint: %d scrapers of /metrics (each every 250 ms) and %d live pages (polling /api/steps every 250 ms)"
                        + " in every other %d ms window of a training job (MLP 64-256-256-1, batch 64, child JVM %s);"
                        + " %d windows a run, %d runs%n",
                EndpointLoad.SCRAPERS,
                EndpointLoad.PAGES,
                EndpointLoad.WINDOW_MS,
                String.join(" ", OverheadBenchmark.JVM_FLAGS),
                windows,
                runs);
        String classPath = JobClassPath.withoutAgent(System.getProperty("java.class.path"));
        List<Double> allRatios = new ArrayList<>();
        out.println();
        out.println("| run | quiet median ms | loaded median ms | x quiet (median of windows) | per loaded window"
                + " | scrapes answered / failed | page polls | job cpu quiet / loaded ms/s | clients cpu ms/s |");
        out.println("|---|---:|---:|---:|---|---|---:|---|---:|");
        for (int run = 1; run <= runs; run++) {
            Path dir = Files.createTempDirectory("gradguard-endpoint-bench");
            EndpointLoad.Result r = EndpointLoad.run(agentJar.toString(), classPath, windows, dir);
            if (r.exitCode() != 0 || r.failed() > 0 || r.errorsSeen() > 0) {
                throw new IllegalStateException(String.format(
                        Locale.ROOT,
                        "endpoint run %d: exit %d, %d scrapes failed (first: %s), %d showed agent errors%n%s",
                        run,
                        r.exitCode(),
                        r.failed(),
                        r.firstFailure(),
                        r.errorsSeen(),
                        r.jobOutput()));
            }
            List<Double> ratios = r.windowRatios();
            allRatios.addAll(ratios);
            out.printf(
                    Locale.ROOT,
                    "| %d | %.3f | %.3f | %.3f | %s | %d / %d | %d | %.0f / %.0f | %.0f |%n",
                    run,
                    r.quietMedianMs(),
                    r.loadedMedianMs(),
                    OverheadBenchmark.median(ratios, Double::doubleValue),
                    ratios.stream()
                            .map(x -> String.format(Locale.ROOT, "%.3f", x))
                            .collect(Collectors.joining(", ")),
                    r.answered(),
                    r.failed(),
                    r.pagePolls(),
                    r.jobCpuQuiet(),
                    r.jobCpuLoaded(),
                    r.clientsCpuPerLoadedSecond());
        }
        double median = OverheadBenchmark.median(allRatios, Double::doubleValue);
        out.printf(
                Locale.ROOT,
                "endpoint load: median step x%.3f (%+.2f%%) under load, median of %d loaded windows%n",
                median,
                (median - 1) * 100,
                allRatios.size());
    }
}
