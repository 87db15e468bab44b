package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ZClip (warm-up 4, alpha 0.5, z_threshold 2) over the global norms 1, 3, 1, 3, 2, 10, 3, worked
 * out by hand:
 * <pre>
 * warm-up 1,3,1,3   mu = 2, var = 1 (population), nothing clipped
 * g=2   z = 0                       EMA(2):  mu = 2, var = 0.5*1 + 0.5*0^2 = 0.5
 * g=10  s = sqrt(0.5), z = 8/(s+1e-6) = 11.3136925
 *       clip to 2 + (4/z)*s = 2 + 0.5*s*(s+1e-6) = 2.2500003536
 *                                   EMA(2.2500003536): mu = 2.1250001768,
 *                                   var = 0.25 + 0.5*(2.2500003536-2.1250001768)^2 = 0.2578125221
 * g=3   z = 0.8749998/(0.5077524+1e-6) = 1.7232771, not clipped
 *                                   EMA(3): mu = 2.5625000884, var = 0.2246093474
 * </pre>
 */
class ZScoreClipTest {

    private NDManager manager;

    @BeforeEach
    void open() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void clipsOutliersToTheAdaptiveThresholdAndFeedsItToTheEma() {
        ZScoreClip policy = new ZScoreClip(2.0, 0.5, 4, Double.NaN);
        for (double g : new double[] {1, 3, 1, 3}) {
            assertFalse(step(policy, g).clipped(), "warm-up never clips");
        }
        assertEquals(2.0, policy.mean(), 0);
        assertEquals(1.0, policy.variance(), 0);

        assertFalse(step(policy, 2).clipped());
        assertEquals(2.0, policy.mean(), 1e-12);
        assertEquals(0.5, policy.variance(), 1e-12);

        ClipResult spike = step(policy, 10);
        assertTrue(spike.clipped());
        assertEquals(2.2500003535533906 / (10 + 1e-6), spike.coefficient(), 1e-12);
        assertEquals(10 * 2.2500003535533906 / (10 + 1e-6), spike.clippedGlobalNorm(), 1e-9);
        assertEquals(2.1250001767766955, policy.mean(), 1e-12);
        assertEquals(0.2578125220971025, policy.variance(), 1e-12);

        assertFalse(step(policy, 3).clipped());
        assertEquals(2.5625000883883478, policy.mean(), 1e-12);
        assertEquals(0.224609347378653, policy.variance(), 1e-12);
    }

    @Test
    void capsAtMaxNormEvenDuringWarmUpWithoutFeedingTheCapToTheEma() {
        ZScoreClip policy = new ZScoreClip(2.0, 0.5, 4, 2.5);

        ClipResult capped = step(policy, 3);
        step(policy, 1);
        step(policy, 3);
        step(policy, 1);

        assertTrue(capped.clipped());
        assertEquals(2.5 / (3 + 1e-6), capped.coefficient(), 1e-12);
        assertEquals(2.0, policy.mean(), 0, "the EMA is seeded with the raw norms");
        assertEquals(1.0, policy.variance(), 0);
    }

    @Test
    void ignoresNonFiniteNorms() {
        ZScoreClip policy = new ZScoreClip(2.0, 0.5, 2, Double.NaN);
        step(policy, 1);
        step(policy, 3);
        StepStats nan = new StepStats(
                List.of(new ParameterStats("p", Double.NaN, Double.NaN, true, 0)), Double.NaN, Double.NaN, true);

        ClipResult result = policy.apply(List.of(), nan);

        assertFalse(result.clipped());
        assertEquals(2.0, policy.mean(), 0);
        assertEquals(1.0, policy.variance(), 0);
    }

    /** One step on a single gradient [g, 0], whose L2 norm is exactly g. */
    private ClipResult step(ZScoreClip policy, double g) {
        List<ParameterGradient> gradients = List.of(
                GradientFixtures.parameter(manager, "p", new float[2], new float[] {(float) g, 0}, new Shape(2)));
        ClipResult result = policy.apply(gradients, GradientFixtures.statsOf(gradients));
        if (result.clipped()) {
            assertEquals(
                    (float) (g * result.coefficient()),
                    gradients.get(0).gradient().getFloat(0),
                    1e-6f);
        }
        return result;
    }
}
