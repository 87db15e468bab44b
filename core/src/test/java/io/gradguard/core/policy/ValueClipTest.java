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

class ValueClipTest {

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
    void clampsBothSides() {
        List<ParameterGradient> gradients = List.of(
                GradientFixtures.parameter(
                        manager, "w", new float[6], new float[] {-3, -0.5f, 0.5f, 3, 1, -1}, new Shape(2, 3)),
                GradientFixtures.parameter(manager, "b", new float[2], new float[] {0.25f, -0.75f}, new Shape(2)));

        ClipResult result = new ValueClip(0.8).apply(gradients, statsOf(gradients));

        assertArrayEquals(
                new float[] {-0.8f, -0.5f, 0.5f, 0.8f, 0.8f, -0.8f},
                gradients.get(0).gradient().toFloatArray(),
                0f);
        assertArrayEquals(
                new float[] {0.25f, -0.75f}, gradients.get(1).gradient().toFloatArray(), 0f);
        assertTrue(result.clipped());
        assertTrue(Double.isNaN(result.coefficient()), "element-wise: the engine measures the figures");
        assertTrue(Double.isNaN(result.clippedGlobalNorm()));
    }

    @Test
    void reportsUntouchedWhenMaxAbsIsWithinTheLimit() {
        List<ParameterGradient> gradients =
                List.of(GradientFixtures.parameter(manager, "b", new float[2], new float[] {1, -1}, new Shape(2)));

        ClipResult result = new ValueClip(1.0).apply(gradients, statsOf(gradients));

        assertEquals(ClipResult.untouched(Math.sqrt(2)), result);
        assertArrayEquals(new float[] {1, -1}, gradients.get(0).gradient().toFloatArray(), 0f);
    }
}
