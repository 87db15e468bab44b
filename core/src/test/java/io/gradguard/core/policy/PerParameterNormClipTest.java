package io.gradguard.core.policy;

import static io.gradguard.core.policy.GradientFixtures.statsOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.stats.ParameterGradient;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PerParameterNormClipTest {

    private NDManager manager;
    private List<ParameterGradient> gradients;

    @BeforeEach
    void oneLargeAndOneSmallParameter() {
        manager = NDManager.newBaseManager();
        gradients = List.of(
                GradientFixtures.parameter(manager, "large", new float[2], new float[] {3, 4}, new Shape(2)),
                GradientFixtures.parameter(manager, "small", new float[2], new float[] {0.3f, 0.4f}, new Shape(2)));
    }

    @AfterEach
    void close() {
        manager.close();
    }

    @Test
    void clipsEachParameterOnItsOwnAndKnowsTheNewGlobalNorm() {
        ClipResult result = new PerParameterNormClip(1.0, 2).apply(gradients, statsOf(gradients));

        double coef = 1.0 / (5 + 1e-6);
        assertArrayEquals(
                new float[] {(float) (3 * coef), (float) (4 * coef)},
                gradients.get(0).gradient().toFloatArray(),
                1e-6f);
        assertArrayEquals(new float[] {0.3f, 0.4f}, gradients.get(1).gradient().toFloatArray(), 0f);
        double smallNorm = GradientFixtures.l2(new float[] {0.3f, 0.4f});
        double expectedGlobal = Math.hypot(5 * coef, smallNorm);
        assertTrue(result.clipped());
        assertEquals(expectedGlobal, result.clippedGlobalNorm(), 1e-12);
        assertEquals(expectedGlobal / Math.hypot(5, smallNorm), result.coefficient(), 1e-12);
        assertEquals(expectedGlobal, statsOf(gradients).globalNorm(), 1e-6);
    }

    @Test
    void clipsEachParameterByMaxAbsForInfinityNorm() {
        new PerParameterNormClip(0.35, Double.POSITIVE_INFINITY).apply(gradients, statsOf(gradients));

        double large = 0.35 / (4 + 1e-6);
        double small = 0.35 / (0.4f + 1e-6);
        assertArrayEquals(
                new float[] {(float) (3 * large), (float) (4 * large)},
                gradients.get(0).gradient().toFloatArray(),
                1e-6f);
        assertArrayEquals(
                new float[] {(float) (0.3f * small), (float) (0.4f * small)},
                gradients.get(1).gradient().toFloatArray(),
                1e-6f);
    }
}
