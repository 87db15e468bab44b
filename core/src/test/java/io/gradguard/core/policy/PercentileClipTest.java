package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.stats.ParameterGradient;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PercentileClipTest {

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
    void interpolatesPercentilesLikeNumpyLinear() {
        NormHistory history = new NormHistory(10);
        for (double v : new double[] {10, 1, 3, 2}) {
            history.add(v);
        }
        // numpy.percentile([10, 1, 3, 2], p): rank p/100 * 3 over [1, 2, 3, 10]
        assertEquals(1.3, history.percentile(10), 1e-12);
        assertEquals(2.5, history.percentile(50), 1e-12);
        assertEquals(7.9, history.percentile(90), 1e-12);
        assertEquals(1.0, history.percentile(0), 0);
        assertEquals(10.0, history.percentile(100), 0);
    }

    /**
     * AutoClip with p = 50 over a history of 4, on a single gradient [g, 0] whose norm is g.
     * Expected max_norm per step (sorted history, rank 0.5 * (n - 1)):
     * <pre>
     * g=4  [4]          -> 4    coef 4/(4+1e-6) < 1: clipped by torch's epsilon only
     * g=1  [1,4]        -> 2.5  untouched
     * g=3  [1,3,4]      -> 3    coef 3/(3+1e-6)
     * g=2  [1,2,3,4]    -> 2.5  untouched
     * g=10 [1,2,3,10]   -> 2.5  (4 evicted) coef 2.5/(10+1e-6)
     * g=2  [2,2,3,10]   -> 2.5  (1 evicted) untouched
     * g=2.6 [2,2,2.6,10] -> 2.3 (3 evicted) coef 2.3/(2.6+1e-6)
     * </pre>
     */
    @Test
    void clipsToTheRunningPercentileOfTheNewestNorms() {
        PercentileClip policy = new PercentileClip(50, 4);
        double[] norms = {4, 1, 3, 2, 10, 2, 2.6};
        double[] maxNorms = {4, 2.5, 3, 2.5, 2.5, 2.5, 2.3};
        boolean[] clipped = {true, false, true, false, true, false, true};

        for (int step = 0; step < norms.length; step++) {
            float g = (float) norms[step];
            List<ParameterGradient> gradients =
                    List.of(GradientFixtures.parameter(manager, "p", new float[2], new float[] {g, 0}, new Shape(2)));

            ClipResult result = policy.apply(gradients, GradientFixtures.statsOf(gradients));

            double coef = maxNorms[step] / ((double) g + 1e-6);
            assertEquals(maxNorms[step], policy.currentMaxNorm(), 1e-6, "step " + step);
            assertEquals(clipped[step], result.clipped(), "step " + step);
            assertEquals(clipped[step] ? (double) g * coef : g, result.clippedGlobalNorm(), 1e-6);
            assertEquals(
                    clipped[step] ? (float) (g * coef) : g,
                    gradients.get(0).gradient().getFloat(0),
                    1e-6f);
        }
    }

    @Test
    void ignoresNonFiniteNormsInItsHistory() {
        PercentileClip policy = new PercentileClip(50, 4);
        List<ParameterGradient> gradients =
                List.of(GradientFixtures.parameter(manager, "p", new float[2], new float[] {1, 0}, new Shape(2)));
        policy.apply(gradients, GradientFixtures.statsOf(gradients));

        ClipResult nan = policy.apply(
                gradients,
                new io.gradguard.core.stats.StepStats(
                        List.of(new io.gradguard.core.stats.ParameterStats("p", Double.NaN, Double.NaN, true, 0)),
                        Double.NaN,
                        Double.NaN,
                        true));

        assertFalse(nan.clipped());
        assertTrue(Double.isFinite(policy.currentMaxNorm()));
    }
}
