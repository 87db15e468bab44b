package io.gradguard.agent.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.stats.GradientStatistics;
import io.gradguard.core.stats.ParameterGradient;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;

/**
 * The statistics pass alone, in this JVM, on gradients shaped like deep-mlp's (54 small arrays:
 * fixed per-call cost) and wide-mlp's (7.4M floats: memory bandwidth), against the floor: one
 * reduction per parameter that reads each byte once (a flattened {@code dot(g, g)}), stacked, one
 * host read.
 */
final class StatisticsPassBenchmark {

    private StatisticsPassBenchmark() {}

    static void run(PrintStream out) {
        // Before the engine loads: one intra-op and one inter-op thread, like the child JVMs.
        System.setProperty("ai.djl.pytorch.num_threads", "1");
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getInstance().setRandomSeed(1);
        out.println();
        out.println("statistics pass in-process (1 thread), median us per step over the iterations:");
        out.println("| gradients | floor: dot per param + 1 read | stats (every step) | x floor"
                + " | stats + max-abs | sampled step (max-abs + weight norms) | first version (norm, max, min, neg, maximum)"
                + " | hand-clip norms (norm().getFloat() each) |");
        out.println("|---|---:|---:|---:|---:|---:|---:|---:|");
        measure(out, "mlp (6 arrays, 235,146 floats)", mlpShapes(), 400);
        measure(out, "deep-mlp (54 arrays, 154,890 floats)", deepMlpShapes(), 400);
        measure(out, "wide-mlp (6 arrays, 7,420,938 floats)", wideMlpShapes(), 30);
    }

    static List<Shape> mlpShapes() {
        return List.of(
                new Shape(256, 784),
                new Shape(256),
                new Shape(128, 256),
                new Shape(128),
                new Shape(10, 128),
                new Shape(10));
    }

    static List<Shape> deepMlpShapes() {
        List<Shape> s = new ArrayList<>();
        s.add(new Shape(64, 784));
        s.add(new Shape(64));
        for (int i = 0; i < 25; i++) {
            s.add(new Shape(64, 64));
            s.add(new Shape(64));
        }
        s.add(new Shape(10, 64));
        s.add(new Shape(10));
        return s;
    }

    static List<Shape> wideMlpShapes() {
        return List.of(
                new Shape(4096, 784),
                new Shape(4096),
                new Shape(1024, 4096),
                new Shape(1024),
                new Shape(10, 1024),
                new Shape(10));
    }

    private static void measure(PrintStream out, String label, List<Shape> shapes, int iterations) {
        try (NDManager base = NDManager.newBaseManager()) {
            List<ParameterGradient> grads = new ArrayList<>();
            for (int i = 0; i < shapes.size(); i++) {
                NDArray w = base.randomNormal(shapes.get(i));
                NDArray g = base.randomNormal(0, 1e-3f, shapes.get(i), ai.djl.ndarray.types.DataType.FLOAT32);
                grads.add(new ParameterGradient("p" + i, w, g));
            }
            double floor = time(base, grads, iterations, StatisticsPassBenchmark::fusedRead);
            double stats = time(base, grads, iterations, (g, m) -> GradientStatistics.compute(g, m, false, false));
            double maxAbs = time(base, grads, iterations, (g, m) -> GradientStatistics.compute(g, m, false, true));
            double sampled = time(base, grads, iterations, (g, m) -> GradientStatistics.compute(g, m, true, true));
            double before = time(base, grads, iterations, StatisticsPassBenchmark::previousPass);
            double hand = time(base, grads, iterations, StatisticsPassBenchmark::handNorms);
            out.printf(
                    Locale.ROOT,
                    "| %s | %.0f | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f |%n",
                    label,
                    floor,
                    stats,
                    stats / floor,
                    maxAbs,
                    sampled,
                    before,
                    hand);
        }
    }

    /** Median microseconds of one pass, each in its own sub-manager closed after it (as the agent does). */
    private static double time(
            NDManager base,
            List<ParameterGradient> grads,
            int iterations,
            BiConsumer<List<ParameterGradient>, NDManager> pass) {
        int warmup = Math.max(3, iterations / 10);
        double[] us = new double[iterations];
        for (int i = -warmup; i < iterations; i++) {
            long t0 = System.nanoTime();
            try (NDManager scratch = base.newSubManager()) {
                pass.accept(grads, scratch);
            }
            if (i >= 0) {
                us[i] = (System.nanoTime() - t0) / 1e3;
            }
        }
        Arrays.sort(us);
        return us[iterations / 2];
    }

    /** The floor: every gradient byte read once, one scalar per parameter, one host read. */
    private static void fusedRead(List<ParameterGradient> grads, NDManager scratch) {
        NDList scalars = new NDList(grads.size());
        for (ParameterGradient p : grads) {
            NDArray flat = p.gradient().flatten();
            flat.attach(scratch);
            NDArray dot = flat.dot(flat);
            dot.attach(scratch);
            scalars.add(dot);
        }
        NDArray stacked = NDArrays.stack(scalars);
        stacked.attach(scratch);
        stacked.toFloatArray();
    }

    /** The first version of the statistics: norm, max, min, neg, maximum per parameter, one read. */
    private static void previousPass(List<ParameterGradient> grads, NDManager scratch) {
        NDList scalars = new NDList(grads.size() * 2);
        for (ParameterGradient p : grads) {
            NDArray g = p.gradient();
            NDArray norm = g.norm();
            norm.attach(scratch);
            NDArray max = g.max();
            max.attach(scratch);
            NDArray min = g.min();
            min.attach(scratch);
            NDArray maxAbs = max.maximum(min.negi());
            maxAbs.attach(scratch);
            scalars.add(norm);
            scalars.add(maxAbs);
        }
        NDArray stacked = NDArrays.stack(scalars);
        stacked.attach(scratch);
        stacked.toFloatArray();
    }

    /** What --hand-clip does to measure: one norm and one host read per parameter. */
    private static void handNorms(List<ParameterGradient> grads, NDManager scratch) {
        double sum = 0;
        for (ParameterGradient p : grads) {
            try (NDArray norm = p.gradient().norm()) {
                float v = norm.getFloat();
                sum += (double) v * v;
            }
        }
        if (sum < 0) {
            throw new AssertionError();
        }
    }
}
