package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.stats.ParameterGradient;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Proof that policies change the gradient the optimizer reads: a real parameter gets its gradient
 * from backward(), the policy works on a {@code getGradient()} handle, and a fresh {@code
 * getGradient()} shows the clipped values.
 */
class InPlaceClippingTest {

    /** d/dw sum(w * k) = k. */
    private static final float[] K = {-3, 0.5f, 4, -0.25f};

    @Test
    void valueClipChangesTheRealGradient() {
        assertArrayEquals(new float[] {-1, 0.5f, 1, -0.25f}, clipRealGradient(ClipPolicyContractTest.value(1.0)), 0f);
    }

    @Test
    void globalNormClipChangesTheRealGradient() {
        double coef = 1.0 / (GradientFixtures.l2(K) + 1e-6);
        float[] expected = new float[K.length];
        for (int i = 0; i < K.length; i++) {
            expected[i] = (float) (K[i] * coef);
        }
        assertArrayEquals(expected, clipRealGradient(PolicyConfigs.defaults("global-norm")), 1e-6f);
    }

    @Test
    void perParameterNormClipChangesTheRealGradient() {
        double coef = 2.0 / (4 + 1e-6);
        float[] expected = new float[K.length];
        for (int i = 0; i < K.length; i++) {
            expected[i] = (float) (K[i] * coef);
        }
        assertArrayEquals(
                expected,
                clipRealGradient(ClipPolicyContractTest.norm("per-parameter-norm", 2.0, Double.POSITIVE_INFINITY)),
                1e-6f);
    }

    @Test
    void adaptiveGradientClipChangesTheRealGradient() {
        float[] weight = {1, 2, 2, 4}; // ||W|| = 5; lambda 0.1 -> max 0.5; w is 1-D: one unit
        float[] expected = AdaptiveGradientClipTest.agcReference(weight, K, 1, 0.1);
        assertArrayEquals(expected, clipRealGradient(ClipPolicyContractTest.agc(0.1)), 1e-6f);
    }

    private static float[] clipRealGradient(GradGuardConfig config) {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {1, 2, 2, 4});
            w.setRequiresGradient(true);
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray k = manager.create(K);
                collector.backward(w.mul(k).sum());
            }
            try (NDArray handle = w.getGradient()) {
                assertArrayEquals(K, handle.toFloatArray(), 0f, "backward() gave the expected gradient");
                List<ParameterGradient> gradients = List.of(new ParameterGradient("w", w, handle));
                ClipPolicies.create(config).apply(gradients, GradientFixtures.statsOf(gradients));
            }
            try (NDArray reread = w.getGradient()) {
                return reread.toFloatArray();
            }
        }
    }
}
