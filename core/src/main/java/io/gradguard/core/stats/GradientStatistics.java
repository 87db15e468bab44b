package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

import java.util.ArrayList;
import java.util.List;

/**
 * Computes a step's gradient statistics with one host read.
 *
 * <p>On PyTorch every native call costs microseconds of fixed overhead, so the number of calls, not
 * the arithmetic, decides the cost on models with many small parameters. Per parameter this issues
 * one L2 norm and one max-abs reduction (two when weights are sampled), stacks every scalar into
 * one array and reads it back once. Non-finite gradients are detected from the max-abs reduction
 * (NaN propagates through {@code max}; an Inf is its own max-abs), so there is no separate scan.
 */
public final class GradientStatistics {

    private GradientStatistics() {}

    /**
     * Computes the statistics of the given gradients.
     *
     * @param gradients the step's gradients
     * @param scratch the manager that owns every temporary created here; the caller closes it
     * @param withWeightNorms whether to also measure the weights' L2 norms
     * @return the statistics, with per-parameter entries in the order of {@code gradients}
     */
    public static StepStats compute(
            List<ParameterGradient> gradients, NDManager scratch, boolean withWeightNorms) {
        int n = gradients.size();
        if (n == 0) {
            return new StepStats(List.of(), 0.0, 0.0, false);
        }
        int perParameter = withWeightNorms ? 3 : 2;
        NDList scalars = new NDList(n * perParameter);
        for (ParameterGradient p : gradients) {
            NDArray g = p.gradient();
            scalars.add(owned(g.norm(), scratch));
            scalars.add(maxAbs(g, scratch));
            if (withWeightNorms) {
                scalars.add(owned(p.weight().norm(), scratch));
            }
        }
        float[] values = readFloats(NDArrays.stack(scalars), scratch);
        return assemble(gradients, values, perParameter, withWeightNorms);
    }

    /**
     * Measures only the global L2 norm of the gradients (after a policy changed them), with one
     * host read.
     *
     * @param gradients the gradients
     * @param scratch owner of the temporaries
     * @return the global L2 norm
     */
    public static double globalNorm(List<ParameterGradient> gradients, NDManager scratch) {
        if (gradients.isEmpty()) {
            return 0.0;
        }
        NDList norms = new NDList(gradients.size());
        for (ParameterGradient p : gradients) {
            norms.add(owned(p.gradient().norm(), scratch));
        }
        float[] values = readFloats(NDArrays.stack(norms), scratch);
        double sumSquares = 0;
        for (float v : values) {
            sumSquares += (double) v * v;
        }
        return Math.sqrt(sumSquares);
    }

    private static StepStats assemble(
            List<ParameterGradient> gradients, float[] values, int stride, boolean withWeights) {
        List<ParameterStats> stats = new ArrayList<>(gradients.size());
        double sumSquares = 0;
        double globalMaxAbs = 0;
        boolean anyNonFinite = false;
        for (int i = 0; i < gradients.size(); i++) {
            double norm = values[i * stride];
            double maxAbs = values[i * stride + 1];
            double weightNorm = withWeights ? values[i * stride + 2] : Double.NaN;
            // A float32 norm can overflow to Inf while every element is finite; max-abs cannot.
            boolean nonFinite = !Double.isFinite(maxAbs);
            anyNonFinite |= nonFinite;
            sumSquares += norm * norm;
            globalMaxAbs = Math.max(globalMaxAbs, maxAbs);
            stats.add(new ParameterStats(gradients.get(i).name(), norm, maxAbs, nonFinite, weightNorm));
        }
        double globalNorm = anyNonFinite ? Double.NaN : Math.sqrt(sumSquares);
        if (anyNonFinite) {
            globalMaxAbs = Double.NaN;
        }
        return new StepStats(stats, globalNorm, globalMaxAbs, anyNonFinite);
    }

    /** max |g| without materialising |g|: max(max(g), -min(g)); both reductions propagate NaN. */
    private static NDArray maxAbs(NDArray g, NDManager scratch) {
        NDArray max = owned(g.max(), scratch);
        NDArray negMin = owned(g.min(), scratch).negi();
        return owned(max.maximum(negMin), scratch);
    }

    /** The one host read of a step; half-precision gradients are widened first. */
    private static float[] readFloats(NDArray stacked, NDManager scratch) {
        NDArray owned = owned(stacked, scratch);
        if (owned.getDataType() != DataType.FLOAT32) {
            owned = owned(owned.toType(DataType.FLOAT32, false), scratch);
        }
        return owned.toFloatArray();
    }

    private static NDArray owned(NDArray array, NDManager scratch) {
        array.attach(scratch);
        return array;
    }
}
