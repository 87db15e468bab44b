package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Computes a step's gradient statistics with one host read and, on a normal step, at most one
 * native reduction per parameter.
 *
 * <p>On PyTorch every native call costs microseconds of fixed overhead (the op, a new handle, its
 * close: 2 to 7 us each), so the number of calls, not the arithmetic, decides the cost on models
 * with many small parameters; on large tensors memory bandwidth decides it. So: small float32
 * gradients that share a shape are stacked and reduced by one row-wise {@code norm} per shape (the
 * same figures, to the bit, as a {@code norm()} each); large float32 ones by row norms of a 2-D
 * view and their norm (one pass, and exact to 1e-7 where one float32 accumulation over millions of
 * elements drifts past 1e-5); the others by one {@code norm()} each. All results are read back
 * with one host sync.
 *
 * <p>Non-finite gradients are found from the norms themselves: a NaN anywhere makes the norm NaN and
 * an Inf makes it Inf, so no separate scan runs on healthy steps. Only when some norm is not finite
 * is max |g| measured, because a float32 norm can overflow to Inf while every element is finite.
 * max |g| (two reductions per parameter) is otherwise measured only when asked: the inf-norm and
 * value policies need it every step, the metrics only now and then.
 */
public final class GradientStatistics {

    /**
     * Float32 gradients above this size are reduced row by row: one {@code norm()} accumulation
     * over millions of float32 elements drifts past 1e-5 relative (6e-5 to 9e-5 measured on
     * wide-mlp's 3.2M and 4.2M element weights), rows of a few hundred stay near 1e-7. Below it
     * {@code norm()} is exact to about 1e-7 and bit-identical to PyTorch's per-parameter norm.
     */
    static final long ROW_NORMS_MIN_ELEMENTS = 1L << 18;

    /** Gradients up to this size are stacked with others of their shape (the stack is a copy). */
    static final long GROUP_MAX_ELEMENTS = 1L << 14;

    private GradientStatistics() {}

    /**
     * Computes the statistics of the given gradients, max |g| included.
     *
     * @param gradients the step's gradients
     * @param scratch the manager that owns every temporary created here; the caller closes it
     * @param withWeightNorms whether to also measure the weights' L2 norms
     * @return the statistics, with per-parameter entries in the order of {@code gradients}
     */
    public static StepStats compute(
            List<ParameterGradient> gradients, NDManager scratch, boolean withWeightNorms) {
        return compute(gradients, scratch, withWeightNorms, true);
    }

    /**
     * Computes the statistics of the given gradients.
     *
     * @param gradients the step's gradients
     * @param scratch the manager that owns every temporary created here; the caller closes it
     * @param withWeightNorms whether to also measure the weights' L2 norms
     * @param withMaxAbs whether to measure max |g|; when false, {@link ParameterStats#gradMaxAbs()}
     *     and {@link StepStats#globalMaxAbs()} are NaN unless some gradient is not finite (then it
     *     is measured anyway, to tell an overflowing norm from a non-finite element)
     * @return the statistics, with per-parameter entries in the order of {@code gradients}
     */
    public static StepStats compute(
            List<ParameterGradient> gradients,
            NDManager scratch,
            boolean withWeightNorms,
            boolean withMaxAbs) {
        int n = gradients.size();
        if (n == 0) {
            return new StepStats(List.of(), 0.0, withMaxAbs ? 0.0 : Double.NaN, false);
        }
        ReadBack readBack = new ReadBack(scratch);
        int[] normAt = new int[n];
        int[] maxAbsAt = new int[n];
        int[] weightAt = new int[n];
        // Small float32 gradients of one shape (deep-mlp: 25 x (64,64), 26 x (64)) are stacked and
        // reduced by one call per shape: the stack copies few bytes and saves a call per parameter.
        Map<Shape, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            NDArray g = gradients.get(i).gradient();
            Shape shape = g.getShape();
            if (g.getDataType() == DataType.FLOAT32 && shape.dimension() > 0 && g.size() > 0
                    && g.size() <= GROUP_MAX_ELEMENTS) {
                groups.computeIfAbsent(shape, k -> new ArrayList<>()).add(i);
            }
        }
        boolean[] grouped = new boolean[n];
        for (Map.Entry<Shape, List<Integer>> group : groups.entrySet()) {
            List<Integer> members = group.getValue();
            if (members.size() < 2) {
                continue;
            }
            NDList stackable = new NDList(members.size());
            for (int i : members) {
                stackable.add(gradients.get(i).gradient());
                grouped[i] = true;
            }
            NDArray stacked = owned(NDArrays.stack(stackable), scratch);
            if (group.getKey().dimension() > 1) {
                // one row per member (PyTorch's max reduces one axis at a time)
                stacked = owned(stacked.reshape(members.size(), -1), scratch);
            }
            int norms = readBack.vector(owned(stacked.norm(ROW_AXIS, false), scratch));
            int maxima = withMaxAbs
                    ? readBack.vector(owned(owned(stacked.abs(), scratch).max(ROW_AXIS), scratch))
                    : -1;
            for (int k = 0; k < members.size(); k++) {
                normAt[members.get(k)] = norms + k;
                maxAbsAt[members.get(k)] = maxima + k;
            }
        }
        for (int i = 0; i < n; i++) {
            ParameterGradient p = gradients.get(i);
            NDArray g = p.gradient();
            if (!grouped[i]) {
                normAt[i] = readBack.scalar(reduce(g, reductionOf(g), scratch));
                if (withMaxAbs) {
                    maxAbsAt[i] = readBack.scalar(maxAbs(g, scratch));
                }
            }
            if (withWeightNorms) {
                // Weight norms are compared across steps, never to 1e-5: one norm() call is enough.
                weightAt[i] = readBack.scalar(owned(p.weight().norm(), scratch));
            }
        }
        float[] values = readBack.read();
        List<ParameterStats> stats = new ArrayList<>(n);
        double sumSquares = 0;
        double globalMaxAbs = withMaxAbs ? 0 : Double.NaN;
        boolean anyNonFinite = false;
        for (int i = 0; i < n; i++) {
            double norm = values[readBack.index(normAt[i])];
            if (!Double.isFinite(norm) && !withMaxAbs) {
                // Rare: NaN/Inf somewhere, or a float32 overflow. Measure again, max |g| included.
                return compute(gradients, scratch, withWeightNorms, true);
            }
            double maxAbs = withMaxAbs ? values[readBack.index(maxAbsAt[i])] : Double.NaN;
            double weightNorm = withWeightNorms ? values[readBack.index(weightAt[i])] : Double.NaN;
            // A float32 norm can overflow to Inf while every element is finite; max-abs cannot.
            boolean nonFinite = withMaxAbs && !Double.isFinite(maxAbs);
            anyNonFinite |= nonFinite;
            sumSquares += norm * norm;
            if (withMaxAbs) {
                globalMaxAbs = Math.max(globalMaxAbs, maxAbs);
            }
            stats.add(new ParameterStats(gradients.get(i).name(), norm, maxAbs, nonFinite, weightNorm));
        }
        double globalNorm = anyNonFinite ? Double.NaN : Math.sqrt(sumSquares);
        return new StepStats(stats, globalNorm, anyNonFinite ? Double.NaN : globalMaxAbs, anyNonFinite);
    }

    /**
     * Collects a step's device results, 0-d scalars and 1-d vectors, into one array read back
     * with one host sync. Indices handed out are resolved by {@link #index} after {@link #read}.
     */
    private static final class ReadBack {
        private final NDManager scratch;
        private final NDList scalars = new NDList();
        private final NDList vectors = new NDList();
        private int vectorLength;

        ReadBack(NDManager scratch) {
            this.scratch = scratch;
        }

        int scalar(NDArray value) {
            scalars.add(value);
            return scalars.size() - 1;
        }

        /** Returns a marker that {@link #index} turns into the position of the vector's first value. */
        int vector(NDArray values) {
            vectors.add(values);
            int start = vectorLength;
            vectorLength += (int) values.size();
            return VECTOR_BASE + start;
        }

        int index(int marker) {
            return marker >= VECTOR_BASE ? scalars.size() + marker - VECTOR_BASE : marker;
        }

        float[] read() {
            NDList parts = new NDList(vectors.size() + 1);
            if (!scalars.isEmpty()) {
                parts.add(owned(NDArrays.stack(scalars), scratch));
            }
            parts.addAll(vectors);
            NDArray all = parts.size() == 1 ? parts.get(0) : owned(NDArrays.concat(parts), scratch);
            return readFloats(all, scratch);
        }

        private static final int VECTOR_BASE = 1 << 30;
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
        return compute(gradients, scratch, false, false).globalNorm();
    }

    /** How one parameter's L2 norm is reduced on the device. */
    private enum Reduction {
        /** {@code norm()}: PyTorch's vector norm, as {@code clip_grad_norm_} computes it. */
        NORM,
        /** per-row norms of a 2-D view, then their norm: accurate on millions of elements. */
        ROW_NORMS
    }

    private static Reduction reductionOf(NDArray g) {
        return g.getDataType() == DataType.FLOAT32 && g.size() > ROW_NORMS_MIN_ELEMENTS && g.getShape().dimension() >= 2
                ? Reduction.ROW_NORMS
                : Reduction.NORM;
    }

    /** The device scalar of one parameter: its L2 norm. */
    private static NDArray reduce(NDArray g, Reduction reduction, NDManager scratch) {
        if (reduction == Reduction.ROW_NORMS) {
            NDArray rows = owned(g.reshape(-1, rowLength(g.getShape())), scratch);
            NDArray rowNorms = owned(rows.norm(ROW_AXIS, false), scratch);
            return owned(rowNorms.norm(), scratch);
        }
        return owned(g.norm(), scratch);
    }

    private static final int[] ROW_AXIS = {1};

    /**
     * Rows of a few hundred elements or more: long enough for the vectorised inner loop, short
     * enough that float32 accumulation in a row stays exact to about 1e-7.
     */
    private static long rowLength(Shape shape) {
        long length = 1;
        for (int d = shape.dimension() - 1; d > 0 && length < 256; d--) {
            length *= shape.get(d);
        }
        return length;
    }

    /**
     * max |g|; both forms propagate NaN. Small tensors: {@code abs().max()}, two calls. Large ones:
     * max(max(g), -min(g)), which never materialises |g| (a full-size temporary).
     */
    private static NDArray maxAbs(NDArray g, NDManager scratch) {
        if (g.size() <= ROW_NORMS_MIN_ELEMENTS) {
            return owned(owned(g.abs(), scratch).max(), scratch);
        }
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
