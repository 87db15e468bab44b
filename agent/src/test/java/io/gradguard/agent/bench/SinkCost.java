package io.gradguard.agent.bench;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.detect.Detection;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.recorder.FlightRecorder;
import io.gradguard.core.recorder.IncidentWriter;
import io.gradguard.core.shadow.ShadowSink;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The training-thread cost of two sinks, in one JVM, on step reports shaped like the reference
 * models' (6, 54 and 500 parameters): the policies in shadow ({@link ShadowSink}) and the flight
 * recorder ({@link FlightRecorder}). Each report carries other norms (a healthy log-normal
 * spread), so the percentile policy's history and the bands move as in a run. After a warm-up that
 * lets the JIT compile the loop, batches of steps are timed and the median batch is printed per
 * step. A diagnosis tool, like {@link EngineStepCost}; the job-level ratios come from {@link
 * OverheadBenchmark}.
 *
 * <p>Arguments: {@code [batches] [steps per batch]}.
 */
public final class SinkCost {

    private SinkCost() {}

    public static void main(String[] args) throws Exception {
        int batches = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int perBatch = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        Path dir = Files.createTempDirectory("sink-cost");
        System.out.printf(
                Locale.ROOT,
                "java %s, nproc %d; median of %d batches of %,d steps, after a warm-up of as many%n",
                System.getProperty("java.version"),
                Runtime.getRuntime().availableProcessors(),
                batches,
                perBatch);
        for (int parameters : new int[] {6, 54, 500}) {
            GradGuardConfig config = GradGuardSchema.load("summary=0,port=0,incidents.dir=" + dir, Map.of(), Map.of());
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            StepReport[] reports = reports(parameters, 4096);
            StepSink shadow = new ShadowSink(registry, "m" + parameters, config, Optional::empty);
            StepSink recorder = new FlightRecorder(
                    registry,
                    "m" + parameters,
                    config,
                    IncidentWriter.open(config, new AgentErrors(registry, config.run())),
                    null);
            double shadowNs = median(shadow, reports, batches, perBatch);
            double recorderNs = median(recorder, reports, batches, perBatch);
            System.out.printf(
                    Locale.ROOT,
                    "%3d parameters: shadow policies %7.1f ns/step, flight recorder %7.1f ns/step%n",
                    parameters,
                    shadowNs,
                    recorderNs);
        }
    }

    private static double median(StepSink sink, StepReport[] reports, int batches, int perBatch) {
        run(sink, reports, perBatch); // warm-up
        double[] ns = new double[batches];
        for (int b = 0; b < batches; b++) {
            long t0 = System.nanoTime();
            run(sink, reports, perBatch);
            ns[b] = (System.nanoTime() - t0) / (double) perBatch;
        }
        Arrays.sort(ns);
        return ns[batches / 2];
    }

    private static void run(StepSink sink, StepReport[] reports, int steps) {
        for (int s = 0; s < steps; s++) {
            sink.accept(reports[s & (reports.length - 1)]);
        }
    }

    /** Reports of one trainable set (the same name instances), norms spread as in a healthy run. */
    private static StepReport[] reports(int parameters, int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < parameters; i++) {
            names.add(String.format(Locale.ROOT, "%02dLinear_%s", i + 1, i % 2 == 0 ? "weight" : "bias"));
        }
        PolicyDescription policy = new PolicyDescription("none", "", "no clipping", "skip");
        Random random = new Random(1);
        StepReport[] out = new StepReport[count];
        for (int s = 0; s < count; s++) {
            List<ParameterStats> ps = new ArrayList<>(parameters);
            double squares = 0;
            for (int i = 0; i < parameters; i++) {
                double norm = Math.exp(0.25 * random.nextGaussian());
                squares += norm * norm;
                ps.add(new ParameterStats(names.get(i), norm, Double.NaN, false, Double.NaN));
            }
            double global = Math.sqrt(squares);
            out[s] = new StepReport(
                    "m",
                    s + 1,
                    System.currentTimeMillis(),
                    new StepStats(ps, global, Double.NaN, false),
                    ClipResult.untouched(global),
                    policy,
                    StepAction.APPLIED,
                    null,
                    new Detection(0.3, false, false),
                    1.0,
                    null,
                    null,
                    0,
                    1000);
        }
        return out;
    }
}
