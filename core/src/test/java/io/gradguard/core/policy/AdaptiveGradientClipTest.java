package io.gradguard.core.policy;

import static io.gradguard.core.policy.GradientFixtures.statsOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.stats.ParameterGradient;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdaptiveGradientClipTest {

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
    void clipsEachRowOfALinearWeight() {
        float[] weight = {
            1, 2, 2, // ||W|| = 3 -> max 0.3
            0, 0, 0, // ||W|| = 0 -> floored to 1e-3 -> max 1e-4
            0, 3, 4 // ||W|| = 5 -> max 0.5
        };
        float[] gradient = {
            1,
            0,
            0, // ||G|| = 1 > 0.3: scaled by 0.3
            0,
            2e-4f,
            0, // ||G|| = 2e-4 > 1e-4: scaled by 0.5
            0.1f,
            0.2f,
            0.2f // ||G|| = 0.3 <= 0.5: untouched
        };
        List<ParameterGradient> gradients =
                List.of(GradientFixtures.parameter(manager, "fc_weight", weight, gradient, new Shape(3, 3)));

        new AdaptiveGradientClip(0.1).apply(gradients, statsOf(gradients));

        float[] clipped = gradients.get(0).gradient().toFloatArray();
        assertArrayEquals(new float[] {0.3f, 0, 0, 0, 1e-4f, 0}, slice(clipped, 0, 6), 1e-7f);
        assertArrayEquals(new float[] {0.1f, 0.2f, 0.2f}, slice(clipped, 6, 9), 0f);
        assertArrayEquals(agcReference(weight, gradient, 3, 0.1), clipped, 1e-7f);
    }

    @Test
    void clipsEachOutputChannelOfAConvKernel() {
        float[] weight = {1, 1, 1, 1, 2, 0, 0, 0}; // [2, 1, 2, 2]: channel norms 2 and 2 -> max 0.2
        float[] gradient = {1, 1, 1, 1, 0.1f, 0, 0, 0}; // channel norms 2 (scaled by 0.1) and 0.1
        List<ParameterGradient> gradients =
                List.of(GradientFixtures.parameter(manager, "conv_weight", weight, gradient, new Shape(2, 1, 2, 2)));

        new AdaptiveGradientClip(0.1).apply(gradients, statsOf(gradients));

        assertArrayEquals(
                new float[] {0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0, 0, 0},
                gradients.get(0).gradient().toFloatArray(),
                1e-7f);
    }

    @Test
    void matchesAPerUnitLoopOnRandomConvLinearAndBias() {
        List<ParameterGradient> gradients = GradientFixtures.random(manager, 42, 0.5);
        List<float[]> weights =
                gradients.stream().map(p -> p.weight().toFloatArray()).toList();
        List<float[]> before = GradientFixtures.snapshot(gradients);

        new AdaptiveGradientClip(0.05).apply(gradients, statsOf(gradients));

        List<float[]> after = GradientFixtures.snapshot(gradients);
        for (int i = 0; i < gradients.size(); i++) {
            Shape shape = gradients.get(i).gradient().getShape();
            int units = shape.dimension() <= 1 ? 1 : Math.toIntExact(shape.get(0));
            assertArrayEquals(
                    agcReference(weights.get(i), before.get(i), units, 0.05),
                    after.get(i),
                    1e-6f,
                    "parameter " + shape);
        }
    }

    @Test
    void treatsABiasAsOneUnit() {
        List<ParameterGradient> gradients = List.of(GradientFixtures.parameter(
                manager, "bias", new float[] {3, 4, 0}, new float[] {0, 0, 1}, new Shape(3)));

        new AdaptiveGradientClip(0.1).apply(gradients, statsOf(gradients));

        assertArrayEquals(new float[] {0, 0, 0.5f}, gradients.get(0).gradient().toFloatArray(), 1e-7f);
        assertEquals(1, AdaptiveGradientClip.unitAxes(1).length);
        assertArrayEquals(new int[] {1, 2, 3}, AdaptiveGradientClip.unitAxes(4));
    }

    /**
     * NFNets AGC in plain Java double: units are contiguous blocks of {@code length / units}
     * elements (row-major, so rows / output channels); max = lambda * max(||W_i||, 1e-3); if
     * ||G_i|| > max then G_i *= max / ||G_i||.
     */
    static float[] agcReference(float[] weight, float[] gradient, int units, double lambda) {
        float[] out = gradient.clone();
        int size = gradient.length / units;
        for (int u = 0; u < units; u++) {
            double w = 0;
            double g = 0;
            for (int j = u * size; j < (u + 1) * size; j++) {
                w += (double) weight[j] * weight[j];
                g += (double) gradient[j] * gradient[j];
            }
            double max = lambda * Math.max(Math.sqrt(w), 1e-3);
            double norm = Math.sqrt(g);
            if (norm > max) {
                for (int j = u * size; j < (u + 1) * size; j++) {
                    out[j] = (float) (gradient[j] * max / norm);
                }
            }
        }
        return out;
    }

    private static float[] slice(float[] values, int from, int to) {
        return java.util.Arrays.copyOfRange(values, from, to);
    }
}
