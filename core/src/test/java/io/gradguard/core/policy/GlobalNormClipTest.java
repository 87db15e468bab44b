package io.gradguard.core.policy;

import static io.gradguard.core.policy.GradientFixtures.statsOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

class GlobalNormClipTest {

    private NDManager manager;
    private List<ParameterGradient> gradients;

    @BeforeEach
    void gradientsWithGlobalNorm13AndMaxAbs12() {
        manager = NDManager.newBaseManager();
        // ||[3, 4]|| = 5, ||[[12, 0], [0, 0]]|| = 12, global L2 = 13, global max |g| = 12.
        gradients = List.of(
                GradientFixtures.parameter(manager, "a", new float[] {1, 1}, new float[] {3, 4}, new Shape(2)),
                GradientFixtures.parameter(
                        manager, "b", new float[] {1, 1, 1, 1}, new float[] {12, 0, 0, 0}, new Shape(2, 2)));
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void clipsToMaxNormLikeTorch() {
        ClipResult result = new GlobalNormClip(1.0, 2).apply(gradients, statsOf(gradients));

        double coef = 1.0 / (13 + 1e-6); // torch: max_norm / (total_norm + 1e-6)
        assertArrayEquals(
                new float[] {(float) (3 * coef), (float) (4 * coef)},
                gradients.get(0).gradient().toFloatArray(),
                1e-6f);
        assertArrayEquals(
                new float[] {(float) (12 * coef), 0, 0, 0},
                gradients.get(1).gradient().toFloatArray(),
                1e-6f);
        assertTrue(result.clipped());
        assertEquals(coef, result.coefficient(), 1e-12);
        assertEquals(13 * coef, result.clippedGlobalNorm(), 1e-12);
        assertEquals(13 * coef, statsOf(gradients).globalNorm(), 1e-6);
    }

    @Test
    void clipsInfinityNormToMaxAbsLikeTorch() {
        ClipResult result = new GlobalNormClip(6.0, Double.POSITIVE_INFINITY).apply(gradients, statsOf(gradients));

        double coef = 6.0 / (12 + 1e-6);
        assertArrayEquals(
                new float[] {(float) (3 * coef), (float) (4 * coef)},
                gradients.get(0).gradient().toFloatArray(),
                1e-6f);
        assertEquals(6.0 * 12 / (12 + 1e-6), statsOf(gradients).globalMaxAbs(), 1e-6);
        assertEquals(coef, result.coefficient(), 1e-12);
        assertEquals(13 * coef, result.clippedGlobalNorm(), 1e-12); // reported norm is always L2
    }

    @Test
    void scalesEvenAtExactlyMaxNormBecauseOfTorchsEpsilon() {
        ClipResult result = new GlobalNormClip(13.0, 2).apply(gradients, statsOf(gradients));

        assertTrue(result.clipped());
        assertEquals(13.0 / (13 + 1e-6), result.coefficient(), 1e-15);
    }

    @Test
    void leavesGradientsUnderMaxNormUntouched() {
        ClipResult result = new GlobalNormClip(13.01, 2).apply(gradients, statsOf(gradients));

        assertFalse(result.clipped());
        assertEquals(ClipResult.untouched(13.0), result);
        assertArrayEquals(new float[] {3, 4}, gradients.get(0).gradient().toFloatArray(), 0f);
    }
}
