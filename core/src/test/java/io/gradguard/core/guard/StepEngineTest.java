package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.gradguard.core.step.StepAction;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class StepEngineTest {

    /**
     * auto's first step on a hand-written loop (SGD, lr 1): a gradient whose norm exceeds the
     * weights' is applied scaled to the weights' norm; a small one passes untouched.
     */
    @Test
    void autosFirstStepCapsAGradientLargerThanTheWeightsAtTheirNorm() throws Exception {
        for (float scale : new float[] {1f, 1e4f}) {
            try (GuardedTraining t = new GuardedTraining("policy.type=auto", 1f)) {
                t.backward(scale);
                Map<String, float[]> before = t.weights();
                Map<String, float[]> grads = t.gradients();
                double gradNorm = l2(grads);
                double weightNorm = l2(before);
                double coef = gradNorm > weightNorm ? weightNorm / (gradNorm + 1e-6) : 1.0;
                assertEquals(scale > 1, coef < 1, "scale " + scale + ": |g| " + gradNorm + ", |w| " + weightNorm);
                assertEquals(StepOutcome.PROCEED, t.step());
                Map<String, float[]> after = t.weights();
                for (String name : before.keySet()) {
                    float[] g = grads.get(name);
                    for (int i = 0; i < g.length; i++) {
                        double applied = before.get(name)[i] - after.get(name)[i];
                        assertEquals(g[i] * coef, applied, 1e-6 * Math.max(1, weightNorm), name + "[" + i + "]");
                    }
                }
            }
        }
    }

    private static double l2(Map<String, float[]> arrays) {
        double sum = 0;
        for (float[] a : arrays.values()) {
            for (float v : a) {
                sum += (double) v * v;
            }
        }
        return Math.sqrt(sum);
    }

    /** Plain SGD with lr 1: the weight change across step() is exactly the gradient applied. */
    @Test
    void weightChangeEqualsGradientClippedByTorchRule() throws Exception {
        try (GuardedTraining t = new GuardedTraining("policy.type=global-norm,policy.max_norm=0.05", 1f)) {
            t.backward(1f);
            Map<String, float[]> before = t.weights();
            Map<String, float[]> grads = t.gradients();
            double total = 0;
            for (float[] g : grads.values()) {
                for (float v : g) {
                    total += (double) v * v;
                }
            }
            total = Math.sqrt(total);
            double coef = 0.05 / (total + 1e-6);
            assertTrue(coef < 1, "the test needs a gradient above max_norm, got " + total);
            assertEquals(StepOutcome.PROCEED, t.step());
            Map<String, float[]> after = t.weights();
            for (String name : before.keySet()) {
                float[] w0 = before.get(name);
                float[] w1 = after.get(name);
                float[] g = grads.get(name);
                for (int i = 0; i < g.length; i++) {
                    double applied = w0[i] - w1[i];
                    assertEquals(g[i] * coef, applied, 1e-6, name + "[" + i + "]");
                }
            }
            assertEquals(1.0, t.counter("gradguard.clip", "policy", "global-norm"));
            assertEquals(coef, t.gauge("gradguard.clip.coefficient"), 1e-9);
            assertEquals(total, t.gauge("gradguard.grad.global.norm"), total * 1e-5);
            assertEquals(0.05, t.gauge("gradguard.grad.global.norm.clipped"), 1e-6);
        }
    }

    /**
     * The agent's own time counts from where the agent was entered (the bridge, before routing),
     * at the step's entry and exit and between steps, and what was charged between steps goes
     * into one report only. Offsets of 1,000 s stand for the routing time, far above any step.
     */
    @Test
    void agentsOwnTimeCountsFromWhereTheAgentWasEnteredOnce() throws Exception {
        long offset = 1_000_000_000_000L;
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 0.1f)) {
            t.backward(1f);
            t.guard.chargeSince(System.nanoTime() - offset); // a collector routed to this engine
            StepOutcome outcome = t.guard.beforeStep(System.nanoTime() - offset);
            t.trainer.step();
            t.guard.afterStep(false, System.nanoTime() - offset);
            assertEquals(StepOutcome.PROCEED, outcome);
            t.backward(1f);
            t.step();
            assertEquals(2, t.reports.size());
            assertTrue(
                    t.reports.get(0).agentNanos() >= 3 * offset,
                    "first: " + t.reports.get(0).agentNanos());
            assertTrue(
                    t.reports.get(1).agentNanos() < offset,
                    "second: " + t.reports.get(1).agentNanos());
        }
    }

    @Test
    void monitoringOnlyTrainsBitForBitAsWithoutTheGuard() throws Exception {
        Map<String, float[]> guarded;
        Map<String, float[]> bare;
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 0.1f)) {
            for (int i = 0; i < 20; i++) {
                t.backward(1f);
                t.step();
            }
            guarded = t.weights();
        }
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 0.1f)) {
            for (int i = 0; i < 20; i++) {
                t.backwardWithoutAgent(1f);
                t.trainer.step();
            }
            bare = t.weights();
        }
        for (String name : bare.keySet()) {
            assertArrayEquals(bare.get(name), guarded.get(name), 0f, name);
        }
    }

    @Test
    void nonFiniteStepIsSkippedAndItsGradientsCleared() throws Exception {
        try (GuardedTraining t = new GuardedTraining("policy.type=global-norm", 0.1f)) {
            t.backward(1f);
            t.step();
            t.backward(Float.NaN);
            Map<String, float[]> before = t.weights();
            assertEquals(StepOutcome.SKIP, t.step());
            assertEquals(before.keySet(), t.weights().keySet());
            for (var e : t.weights().entrySet()) {
                assertArrayEquals(before.get(e.getKey()), e.getValue(), 0f, "weights moved on a skipped step");
            }
            for (var g : t.gradients().entrySet()) {
                for (float v : g.getValue()) {
                    assertEquals(0f, v, "gradient not cleared: " + g.getKey());
                }
            }
            assertEquals(1.0, t.counter("gradguard.skipped.steps", "reason", "nonfinite"));
            assertEquals(1.0, t.counter("gradguard.grad.nonfinite"));
            t.backward(1f);
            assertEquals(StepOutcome.PROCEED, t.step(), "training goes on after the skip");
            assertTrue(Double.isFinite(t.gauge("gradguard.grad.global.norm")));
        }
    }

    @Test
    void failModeThrowsOneClearLine() throws Exception {
        try (GuardedTraining t = new GuardedTraining("on_nonfinite=fail", 0.1f)) {
            t.backward(Float.NaN);
            StepOutcome outcome = t.step();
            assertTrue(!outcome.runUpdate());
            RuntimeException e = outcome.failure();
            assertTrue(e.getMessage().startsWith("gradguard: non-finite gradients at step 1"), e.getMessage());
            assertTrue(!e.getMessage().contains("\n"));
        }
    }

    @Test
    void firstStepAllZeroAfterZeroingIsSkippedNotRefusedByDjl() throws Exception {
        try (GuardedTraining t = new GuardedTraining("on_nonfinite=zero", 0.1f)) {
            t.backward(Float.NaN);
            // every gradient was NaN: zeroing all on DJL's first step would make step() throw
            assertEquals(StepOutcome.SKIP, t.step());
            t.backward(1f);
            assertEquals(StepOutcome.PROCEED, t.step());
        }
    }

    @Test
    void tooManySkipsInARowFailTheJobWhenAskedTo() throws Exception {
        try (GuardedTraining t = new GuardedTraining("max_consecutive_skips=3,fail_on_max_skips=true", 0.1f)) {
            t.backward(1f);
            t.step();
            for (int i = 0; i < 2; i++) {
                t.backward(Float.NaN);
                assertEquals(StepOutcome.SKIP, t.step());
            }
            t.backward(Float.NaN);
            RuntimeException failure = t.step().failure();
            assertNotNull(failure, "the third skip in a row fails the job");
            assertTrue(failure.getMessage().contains("3 skipped in a row"), failure.getMessage());
        }
    }

    @Test
    void tooManySkipsInARowOnlyWarnByDefaultAndAGoodStepResetsTheCount() throws Exception {
        try (GuardedTraining t = new GuardedTraining("max_consecutive_skips=2", 0.1f)) {
            t.backward(1f);
            t.step();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 3; i++) {
                    t.backward(Float.NaN);
                    assertEquals(StepOutcome.SKIP, t.step());
                }
                t.backward(1f);
                assertEquals(StepOutcome.PROCEED, t.step());
            }
            assertEquals(6.0, t.counter("gradguard.skipped.steps", "reason", "nonfinite"));
        }
    }

    /**
     * DJL refuses a first step whose gradients are all zero (here: no backward at all) by
     * throwing: that is not an optimizer step, so it is not counted; the next one is step 1.
     */
    @Test
    void aStepOnWhichDjlThrewIsNotCounted() {
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 0.1f)) {
            assertThrows(IllegalStateException.class, t::step, "DJL's own all-zero check");
            assertEquals(0.0, t.counter("gradguard.steps"));
            assertEquals(StepAction.DJL_THREW, t.reports.get(0).action());
            t.backward(1f);
            t.step();
            assertEquals(1.0, t.counter("gradguard.steps"));
            assertEquals(1, t.reports.get(1).step(), "numbered as the first real step");
        }
    }

    /**
     * DJL itself leaves a few arrays per step (backward's seed, optimizer temporaries), so the
     * guard is measured against the same job stepping without it: it must add none.
     */
    @ParameterizedTest
    @ValueSource(strings = {"agc", "global-norm,policy.max_norm=1e-3"})
    void thousandsOfGuardedStepsAddNoLiveNativeArrays(String policy) throws Exception {
        try (GuardedTraining t = new GuardedTraining("policy.type=" + policy + ",update_ratio_every=1", 0.05f)) {
            for (int i = 0; i < 50; i++) {
                t.backward(1f);
                t.step();
            }
            int start = liveArrays(t);
            for (int i = 0; i < 1500; i++) {
                t.backwardWithoutAgent(1f);
                t.trainer.step();
            }
            int bare = liveArrays(t) - start;
            for (int i = 0; i < 1500; i++) {
                t.backward(1f);
                t.step();
            }
            int guarded = liveArrays(t) - start - bare;
            System.out.printf("live NDArrays added by 1500 steps: bare job %d, guarded job %d%n", bare, guarded);
            assertEquals(bare, guarded, "the guard leaks native arrays");
        }
    }

    /** Every NDArray still open anywhere under the engine's root manager. */
    private static int liveArrays(GuardedTraining t) {
        NDManager m = t.model.getNDManager();
        while (m.getParentManager() != null) {
            m = m.getParentManager();
        }
        return m.getManagedArrays().size();
    }
}
