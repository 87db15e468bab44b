package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.djl.OptimizerControl;
import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import java.lang.reflect.Field;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The recovery ladder's actions on a real DJL trainer: the learning-rate factor changes the applied
 * update exactly as stated, for SGD (with momentum) and Adam, and a rewind puts the weights and the
 * optimizer state back bit for bit.
 */
class RecoveryTest {

    /** SGD at lr 1 and no momentum: the weight change is the gradient times the factor. */
    @Test
    void theFactorScalesPlainSgdsUpdateExactly() {
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 1f)) {
            OptimizerControl control = OptimizerControl.of(DjlTrainer.of(t.trainer));
            control.scaleRate(0.25);
            t.backward(1f);
            Map<String, float[]> grads = t.gradients();
            Map<String, float[]> before = t.weights();
            t.trainer.step();
            Map<String, float[]> after = t.weights();
            for (String name : before.keySet()) {
                for (int i = 0; i < before.get(name).length; i++) {
                    assertEquals(0.25 * grads.get(name)[i], before.get(name)[i] - after.get(name)[i], 1e-6, name);
                }
            }
            assertEquals(1.0, control.lastJobRate(), 0.0, "the job's own rate, before the factor");
        }
    }

    /**
     * With momentum and with Adam the factor scales each update as the same factor on the job's
     * rate would: a twin job built with that rate takes the same steps.
     */
    @Test
    void theFactorIsTheJobsRateTimesItForSgdWithMomentumAndForAdam() {
        for (boolean adam : new boolean[] {false, true}) {
            Map<String, float[]> scaled = trainTen(
                    adam
                            ? Optimizer.adam()
                                    .optLearningRateTracker(Tracker.fixed(0.01f))
                                    .build()
                            : Optimizer.sgd()
                                    .setLearningRateTracker(Tracker.fixed(0.1f))
                                    .optMomentum(0.9f)
                                    .build(),
                    0.5);
            Map<String, float[]> twin = trainTen(
                    adam
                            ? Optimizer.adam()
                                    .optLearningRateTracker(Tracker.fixed(0.005f))
                                    .build()
                            : Optimizer.sgd()
                                    .setLearningRateTracker(Tracker.fixed(0.05f))
                                    .optMomentum(0.9f)
                                    .build(),
                    1.0);
            for (String name : twin.keySet()) {
                assertArrayEquals(twin.get(name), scaled.get(name), 1e-6f, (adam ? "adam " : "sgd ") + name);
            }
        }
    }

    private static Map<String, float[]> trainTen(Optimizer optimizer, double factor) {
        try (GuardedTraining t = new GuardedTraining("policy.type=none", optimizer)) {
            OptimizerControl.of(DjlTrainer.of(t.trainer)).scaleRate(factor);
            for (int i = 0; i < 10; i++) {
                t.backward(1f);
                t.trainer.step();
            }
            return t.weights();
        }
    }

    /**
     * With rewinds on, a run whose gradients stay non-finite is put back to the snapshot of its
     * first step: weights and Adam's moments bit for bit, and its rate halved twice.
     */
    @Test
    void aRewindRestoresWeightsAndOptimizerStateBitForBit() throws Exception {
        Optimizer adam =
                Optimizer.adam().optLearningRateTracker(Tracker.fixed(0.01f)).build();
        try (GuardedTraining t = new GuardedTraining(
                "policy.type=none,recovery.rewind=on,recovery.backoff=on,recovery.snapshot_every=5,recovery.diverge_steps=3",
                adam)) {
            Map<String, float[]> atSnapshot = null;
            Map<String, float[]> meansAtSnapshot = null;
            long snapshotStep = 0;
            for (int step = 1; step <= 12; step++) {
                if (step == 11) {
                    // what the last snapshot (before step 11's update, taken at step 11 or earlier) holds
                    assertNotNull(atSnapshot);
                }
                boolean poisoned = step >= 10;
                Map<String, float[]> weights = t.weights();
                Map<String, float[]> means = moments(adam);
                t.backward(poisoned ? Float.NaN : 1f);
                t.step();
                StepReport r = t.reports.get(t.reports.size() - 1);
                if (r.action() == StepAction.APPLIED && (step - 1) % 5 == 0) {
                    atSnapshot = weights;
                    meansAtSnapshot = means;
                    snapshotStep = step;
                }
                if (r.recovery() != null && r.recovery().action() == RecoveryAction.REWIND) {
                    assertEquals(StepAction.SKIPPED, r.action());
                    assertEquals("rewind", r.skipReason());
                    assertEquals(step - snapshotStep, r.recovery().rewoundSteps());
                    Map<String, float[]> restored = t.weights();
                    for (String name : atSnapshot.keySet()) {
                        assertArrayEquals(atSnapshot.get(name), restored.get(name), 0f, "weights of " + name);
                    }
                    Map<String, float[]> restoredMeans = moments(adam);
                    assertEquals(meansAtSnapshot.keySet(), restoredMeans.keySet());
                    for (String id : meansAtSnapshot.keySet()) {
                        assertArrayEquals(meansAtSnapshot.get(id), restoredMeans.get(id), 0f, "Adam's mean of " + id);
                    }
                    assertEquals(0.25, r.recovery().lrScale(), 0.0, "a rewind backs the rate off twice");
                    assertEquals(1.0, t.counter("gradguard.recoveries", "action", "rewind"));
                    return;
                }
            }
            throw new AssertionError(
                    "no rewind after three non-finite steps in a row: " + t.reports.size() + " reports");
        }
    }

    @Test
    void withoutTheLadderTheJobsOptimizerIsNotTouched() throws Exception {
        Tracker own = Tracker.fixed(0.1f);
        Optimizer sgd = Optimizer.sgd().setLearningRateTracker(own).build();
        try (GuardedTraining t = new GuardedTraining("policy.type=global-norm", sgd)) {
            t.backward(1f);
            t.step();
            Field f = sgd.getClass().getDeclaredField("learningRateTracker");
            f.setAccessible(true);
            assertSame(own, f.get(sgd), "no ladder: the job's tracker stays its own object");
            assertTrue(t.reports.get(0).recovery() == null);
        }
    }

    /** Adam's first moments by parameter id, as plain arrays. */
    @SuppressWarnings("unchecked")
    private static Map<String, float[]> moments(Optimizer adam) throws Exception {
        Field f = adam.getClass().getDeclaredField("means");
        f.setAccessible(true);
        Map<String, Map<?, ai.djl.ndarray.NDArray>> means = (Map<String, Map<?, ai.djl.ndarray.NDArray>>) f.get(adam);
        Map<String, float[]> out = new java.util.TreeMap<>();
        means.forEach((id, perDevice) ->
                out.put(id, perDevice.values().iterator().next().toFloatArray()));
        return out;
    }
}
