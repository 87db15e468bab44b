package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The parameters measured and clipped are exactly those the optimizer updates at each step: across
 * a freeze and an unfreeze during training, and with a block used twice. Jobs written the way
 * users write them: {@code Block.freezeParameters}, the same block added twice to a sequence.
 */
class TrainableSetTest {

    private static final double MAX_NORM = 0.05;

    /**
     * Fine-tuning: train all, freeze the backbone, unfreeze it. Global-norm clipping on and one NaN
     * batch in every phase: at every step the per-parameter norms equal the job's own (double
     * precision, trainable parameters only) to 1e-5, the weight change of SGD at lr 1 equals the
     * clipped gradient, frozen weights do not move, and the NaN steps are skipped.
     */
    @Test
    void freezeAndUnfreezeDuringTrainingKeepMeasurementClippingAndSkippingExact() {
        Linear backbone = Linear.builder().setUnits(16).build();
        Block block = new SequentialBlock()
                .add(backbone)
                .add(Activation::relu)
                .add(Linear.builder().setUnits(3).build());
        try (GuardedTraining t =
                new GuardedTraining("policy.type=global-norm,policy.max_norm=" + MAX_NORM, 1f, block, 5, 3)) {
            List<String> phases = new ArrayList<>();
            for (int step = 1; step <= 24; step++) {
                if (step == 9) {
                    backbone.freezeParameters(true);
                }
                if (step == 17) {
                    backbone.freezeParameters(false);
                }
                boolean poisoned = step % 8 == 4; // steps 4, 12, 20: one in each phase
                t.backward(poisoned ? Float.NaN : 1f);
                Map<String, float[]> own = t.trainableGradients();
                Map<String, float[]> before = t.weights();
                t.step();
                StepReport r = t.reports.get(t.reports.size() - 1);
                assertEquals(List.copyOf(own.keySet()), names(r), "measured set at step " + step);
                Map<String, float[]> after = t.weights();
                if (poisoned) {
                    assertEquals(StepAction.SKIPPED, r.action(), "NaN step " + step + " not skipped");
                    before.forEach((name, w) -> assertArrayEquals(w, after.get(name), 0f, name + " moved on a skip"));
                    continue;
                }
                double total = 0;
                for (ParameterStats p : r.stats().parameters()) {
                    double expected = l2(own.get(p.name()));
                    assertEquals(expected, p.gradNorm(), expected * 1e-5, p.name() + " at step " + step);
                    total += expected * expected;
                }
                total = Math.sqrt(total);
                assertTrue(r.clip().clipped(), "clipping must act at step " + step + " (norm " + total + ")");
                double coef = MAX_NORM / (total + 1e-6);
                for (String name : before.keySet()) {
                    float[] g = own.get(name);
                    for (int i = 0; i < before.get(name).length; i++) {
                        double applied = before.get(name)[i] - after.get(name)[i];
                        assertEquals(
                                g == null ? 0 : g[i] * coef,
                                applied,
                                1e-6,
                                name + "[" + i + "] at step " + step + (g == null ? " (frozen)" : ""));
                    }
                }
                phases.add(step + ":" + r.stats().parameters().size());
            }
            assertEquals(3.0, t.counter("gradguard.skipped.steps", "reason", "nonfinite"));
            assertEquals(0.0, sumErrors(t), "no part of the agent failed: " + phases);
            System.out.println("steps:parameters measured " + phases);
        }
    }

    /**
     * A block added twice holds one set of parameters, which the optimizer updates once with the
     * sum of both uses' gradients: it is counted once in the global norm and scaled once, so the
     * optimizer receives exactly max_norm (checked by the weight change of SGD at lr 1).
     */
    @Test
    void aBlockUsedTwiceIsCountedAndClippedOnce() {
        Linear shared = Linear.builder().setUnits(8).build();
        Block block = new SequentialBlock().add(shared).add(Activation::relu).add(shared);
        try (GuardedTraining t =
                new GuardedTraining("policy.type=global-norm,policy.max_norm=" + MAX_NORM, 1f, block, 8, 8)) {
            assertEquals(4, t.model.getBlock().getParameters().size(), "the block tree lists the shared block twice");
            t.backward(1f);
            Map<String, float[]> own = t.trainableGradients();
            assertEquals(2, own.size());
            double ownNorm = 0;
            for (float[] g : own.values()) {
                ownNorm += l2(g) * l2(g);
            }
            ownNorm = Math.sqrt(ownNorm);
            Map<String, float[]> before = t.weights();
            t.step();
            StepReport r = t.reports.get(0);
            assertEquals(2, r.stats().parameters().size(), "one entry per distinct parameter");
            assertEquals(ownNorm, r.stats().globalNorm(), ownNorm * 1e-5, "global norm counts the shared weight once");
            Map<String, float[]> after = t.weights();
            double moved = 0;
            for (String name : own.keySet()) {
                for (int i = 0; i < after.get(name).length; i++) {
                    double d = before.get(name)[i] - after.get(name)[i];
                    moved += d * d;
                }
            }
            assertEquals(MAX_NORM, Math.sqrt(moved), 1e-6, "the optimizer received exactly max_norm");
            assertEquals(MAX_NORM, r.clip().clippedGlobalNorm(), 1e-6, "and the agent says so");
            assertFalse(r.stats().nonFinite());
        }
    }

    /**
     * {@code Model.load} during training gives every parameter a new array, while the trainer's
     * parameter store keeps the arrays it handed out (DJL fills a store entry once). Whichever arrays
     * the gradients then land in, the agent measures those: its global norm equals the norm of the
     * gradients that backward wrote, to 1e-5, at every step after the reload, and clipping still acts.
     */
    @Test
    void aModelReloadedDuringTrainingIsMeasuredOnTheGradientsBackwardWrote() throws Exception {
        try (GuardedTraining t = new GuardedTraining("policy.type=global-norm,policy.max_norm=" + MAX_NORM, 1f)) {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("reload");
            Map<String, ai.djl.ndarray.NDArray> before = new java.util.LinkedHashMap<>();
            for (var p : t.model.getBlock().getParameters()) {
                before.put(p.getKey(), p.getValue().getArray());
            }
            for (int step = 1; step <= 3; step++) {
                t.backward(1f);
                t.step();
            }
            t.model.save(dir, "guarded");
            t.model.load(dir, "guarded");
            int reloaded = 0;
            for (var p : t.model.getBlock().getParameters()) {
                reloaded += p.getValue().getArray() != before.get(p.getKey()) ? 1 : 0;
            }
            for (int step = 4; step <= 8; step++) {
                t.backward(1f);
                double written = 0;
                for (var p : t.model.getBlock().getParameters()) {
                    double fromNew = gradientNorm(p.getValue().getArray());
                    double fromOld = gradientNorm(before.get(p.getKey()));
                    double g = Math.max(fromNew, fromOld); // the other array has none, or a zero one
                    written += g * g;
                }
                written = Math.sqrt(written);
                t.step();
                StepReport r = t.reports.get(t.reports.size() - 1);
                assertEquals(written, r.stats().globalNorm(), written * 1e-5, "global norm at step " + step);
                assertTrue(r.clip().clipped(), "clipping must act at step " + step);
            }
            assertEquals(0.0, sumErrors(t), "no part of the agent failed");
            System.out.println("parameters with a new array after Model.load: " + reloaded);
        }
    }

    private static double gradientNorm(ai.djl.ndarray.NDArray array) {
        if (!array.hasGradient()) {
            return 0;
        }
        try (ai.djl.ndarray.NDArray g = array.getGradient()) {
            return l2(g.toFloatArray());
        }
    }

    private static List<String> names(StepReport r) {
        return r.stats().parameters().stream().map(ParameterStats::name).toList();
    }

    private static double l2(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }

    private static double sumErrors(GuardedTraining t) {
        return t.registry.find("gradguard.agent.errors").counters().stream()
                .mapToDouble(c -> c.count())
                .sum();
    }
}
