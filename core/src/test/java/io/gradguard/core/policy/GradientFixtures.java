package io.gradguard.core.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test gradients on real PyTorch NDArrays, and their statistics computed in Java double. */
final class GradientFixtures {

    /** A 1-D bias, a 2-D linear weight [out, in] and a 4-D conv kernel [out, in, kh, kw]. */
    static final List<Shape> SHAPES = List.of(new Shape(8), new Shape(4, 8), new Shape(3, 2, 3, 3));

    private GradientFixtures() {}

    /**
     * Seeded gaussian weights and gradients over {@link #SHAPES}; each gradient is scaled by
     * {@code gradientScale}, each weight by 0.5.
     */
    static List<ParameterGradient> random(NDManager manager, long seed, double gradientScale) {
        Random random = new Random(seed);
        List<ParameterGradient> gradients = new ArrayList<>();
        int i = 0;
        for (Shape shape : SHAPES) {
            NDArray weight = manager.create(gaussian(random, shape, 0.5), shape);
            NDArray gradient = manager.create(gaussian(random, shape, gradientScale), shape);
            gradients.add(new ParameterGradient("p" + i++, weight, gradient));
        }
        return gradients;
    }

    static ParameterGradient parameter(NDManager manager, String name, float[] weight, float[] gradient, Shape shape) {
        return new ParameterGradient(name, manager.create(weight, shape), manager.create(gradient, shape));
    }

    private static float[] gaussian(Random random, Shape shape, double scale) {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextGaussian() * scale);
        }
        return values;
    }

    /** Pre-clip statistics, computed on the host in double from {@code toFloatArray()}. */
    static StepStats statsOf(List<ParameterGradient> gradients) {
        List<ParameterStats> parameters = new ArrayList<>();
        double squares = 0;
        double maxAbs = 0;
        boolean nonFinite = false;
        for (ParameterGradient p : gradients) {
            float[] g = p.gradient().toFloatArray();
            double norm = l2(g);
            double max = maxAbs(g);
            boolean bad = !Double.isFinite(norm);
            parameters.add(
                    new ParameterStats(p.name(), norm, max, bad, l2(p.weight().toFloatArray())));
            squares += norm * norm;
            maxAbs = Math.max(maxAbs, max);
            nonFinite |= bad;
        }
        return new StepStats(parameters, Math.sqrt(squares), maxAbs, nonFinite);
    }

    static double l2(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }

    static double maxAbs(float[] values) {
        double max = 0;
        for (float v : values) {
            max = Math.max(max, Math.abs((double) v));
        }
        return max;
    }

    /** Copies of every gradient's values, to compare before and after. */
    static List<float[]> snapshot(List<ParameterGradient> gradients) {
        List<float[]> values = new ArrayList<>();
        for (ParameterGradient p : gradients) {
            values.add(p.gradient().toFloatArray());
        }
        return values;
    }
}
