package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.FloatBuffer;
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
        return Plan.of(gradients).compute(gradients, scratch, withWeightNorms, withMaxAbs, List.of(), new double[0]);
    }

    /**
     * How one list of gradients is reduced: which share a shape and are stacked, which are reduced
     * by rows, whether every result can be read without a copy. Shapes and types do not change
     * from step to step, so the engine makes a plan once per set of trainable parameters and
     * reuses it: no shape queries and no grouping at each step.
     */
    public static final class Plan {

        private final List<String> names;
        private final int[][] groups;
        private final boolean[] grouped;
        private final boolean[] byRows;
        private final boolean[] byDot;
        private final long[] rowLength;
        private final boolean[] groupIsMatrix;
        private final boolean cpu;
        /** Flat views of the dot-reduced gradients, kept across steps; null entries elsewhere. */
        private final NDArray[] flat;

        private Plan(List<String> names, int[][] groups, boolean[] grouped, boolean[] byRows, boolean[] byDot,
                long[] rowLength, boolean[] groupIsMatrix, boolean cpu, NDArray[] flat) {
            this.flat = flat;
            this.names = names;
            this.groups = groups;
            this.grouped = grouped;
            this.byRows = byRows;
            this.byDot = byDot;
            this.rowLength = rowLength;
            this.groupIsMatrix = groupIsMatrix;
            this.cpu = cpu;
        }

        /**
         * Inspects the gradients' shapes, types and devices.
         *
         * @param gradients one step's gradients
         * @return the plan for gradients of these parameters
         */
        public static Plan of(List<ParameterGradient> gradients) {
            return of(gradients, null);
        }

        /**
         * A plan for gradient handles that are kept across steps: it keeps flat views of them too
         * (a view aliases the gradient's storage, so it follows every in-place update), sparing a
         * reshape, a native call and a handle per parameter per step.
         *
         * @param gradients the kept gradients
         * @param views owner of the views, closed with the gradient handles; null for none
         * @return the plan
         */
        public static Plan of(List<ParameterGradient> gradients, NDManager views) {
            int n = gradients.size();
            List<String> names = new ArrayList<>(n);
            boolean[] byRows = new boolean[n];
            boolean[] byDot = new boolean[n];
            long[] rowLength = new long[n];
            boolean cpu = true;
            // Small float32 gradients of one shape (deep-mlp: 25 x (64,64), 26 x (64)) are stacked
            // and reduced by one call per shape: the stack copies few bytes and saves a call each.
            Map<Shape, List<Integer>> byShape = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                NDArray g = gradients.get(i).gradient();
                names.add(gradients.get(i).name());
                Shape shape = g.getShape();
                cpu &= g.getDevice().getDeviceType().equals(ai.djl.Device.Type.CPU);
                boolean float32 = g.getDataType() == DataType.FLOAT32;
                if (float32 && shape.dimension() > 0 && shape.size() > 0 && shape.size() <= GROUP_MAX_ELEMENTS) {
                    byShape.computeIfAbsent(shape, k -> new ArrayList<>()).add(i);
                }
                byRows[i] = float32 && shape.size() > ROW_NORMS_MIN_ELEMENTS && shape.dimension() >= 2;
                byDot[i] = float32 && !byRows[i] && shape.size() > 0;
                rowLength[i] = rowLength(shape);
            }
            boolean[] grouped = new boolean[n];
            List<int[]> groups = new ArrayList<>();
            List<Boolean> matrix = new ArrayList<>();
            for (Map.Entry<Shape, List<Integer>> e : byShape.entrySet()) {
                if (e.getValue().size() >= 2) {
                    int[] members = e.getValue().stream().mapToInt(Integer::intValue).toArray();
                    for (int m : members) {
                        grouped[m] = true;
                    }
                    groups.add(members);
                    matrix.add(e.getKey().dimension() > 1);
                }
            }
            boolean[] groupIsMatrix = new boolean[matrix.size()];
            for (int k = 0; k < groupIsMatrix.length; k++) {
                groupIsMatrix[k] = matrix.get(k);
            }
            NDArray[] flat = new NDArray[n];
            for (int i = 0; views != null && i < n; i++) {
                NDArray g = gradients.get(i).gradient();
                if (byDot[i] && !grouped[i]) {
                    flat[i] = g.getShape().dimension() == 1 ? g : owned(g.reshape(-1), views);
                }
            }
            return new Plan(List.copyOf(names), groups.toArray(new int[0][]), grouped, byRows, byDot, rowLength,
                    groupIsMatrix, cpu, flat);
        }

        /**
         * Whether this plan fits these gradients (the same parameters, in the same order).
         *
         * @param gradients one step's gradients
         * @return true when {@link #compute} may be called with them
         */
        public boolean fits(List<ParameterGradient> gradients) {
            if (gradients.size() != names.size()) {
                return false;
            }
            for (int i = 0; i < names.size(); i++) {
                if (!names.get(i).equals(gradients.get(i).name())) {
                    return false;
                }
            }
            return true;
        }

        /**
         * Computes the statistics with one host read (none at all on CPU, where the results are
         * read through zero-copy views), and reads further scalars in the same read.
         *
         * @param gradients the step's gradients, those this plan was made for
         * @param scratch owner of every temporary
         * @param withWeightNorms whether to measure the weights' L2 norms
         * @param withMaxAbs whether to measure max |g| (see {@link GradientStatistics#compute})
         * @param extras further device scalars to read in the same read (the step's losses)
         * @param extrasOut receives their values, in order; at least {@code extras.size()} long
         * @return the statistics, with per-parameter entries in the order of {@code gradients}
         */
        public StepStats compute(List<ParameterGradient> gradients, NDManager scratch, boolean withWeightNorms,
                boolean withMaxAbs, List<NDArray> extras, double[] extrasOut) {
            return compute(gradients, scratch, withWeightNorms, withMaxAbs, extras, extrasOut, false);
        }

        /** With {@code torchNorms}, every norm is PyTorch's own {@code norm()} (the re-measure of a rare bad step). */
        private StepStats compute(List<ParameterGradient> gradients, NDManager scratch, boolean withWeightNorms,
                boolean withMaxAbs, List<NDArray> extras, double[] extrasOut, boolean torchNorms) {
            int n = gradients.size();
            if (n == 0 && extras.isEmpty()) {
                return new StepStats(List.of(), 0.0, withMaxAbs ? 0.0 : Double.NaN, false);
            }
            ReadBack readBack = new ReadBack(scratch, cpu);
            int[] normAt = new int[n];
            int[] maxAbsAt = new int[n];
            int[] weightAt = new int[n];
            boolean[] squared = new boolean[n];
            for (int k = 0; k < groups.length; k++) {
                int[] members = groups[k];
                NDList stackable = new NDList(members.length);
                for (int i : members) {
                    stackable.add(gradients.get(i).gradient());
                }
                NDArray stacked = owned(NDArrays.stack(stackable), scratch);
                if (groupIsMatrix[k]) {
                    // one row per member (PyTorch's max reduces one axis at a time)
                    stacked = owned(stacked.reshape(members.length, -1), scratch);
                }
                int norms = readBack.vector(owned(stacked.norm(ROW_AXIS, false), scratch), members.length);
                int maxima = withMaxAbs
                        ? readBack.vector(owned(owned(stacked.abs(), scratch).max(ROW_AXIS), scratch), members.length)
                        : -1;
                for (int m = 0; m < members.length; m++) {
                    normAt[members[m]] = norms + m;
                    maxAbsAt[members[m]] = maxima + m;
                }
            }
            for (int i = 0; i < n; i++) {
                ParameterGradient p = gradients.get(i);
                NDArray g = p.gradient();
                if (!grouped[i]) {
                    squared[i] = byDot[i] && !torchNorms;
                    normAt[i] = readBack.scalar(squared[i]
                            ? sumOfSquares(flat[i] != null ? flat[i] : g, scratch)
                            : reduce(g, byRows[i] && !torchNorms, rowLength[i], scratch));
                    if (withMaxAbs) {
                        maxAbsAt[i] = readBack.scalar(maxAbs(g, scratch));
                    }
                }
                if (withWeightNorms) {
                    // Weight norms are compared across steps, never to 1e-5: one norm() call is enough.
                    weightAt[i] = readBack.scalar(owned(p.weight().norm(), scratch));
                }
            }
            int[] extraAt = new int[extras.size()];
            for (int e = 0; e < extraAt.length; e++) {
                extraAt[e] = readBack.scalar(extras.get(e));
            }
            float[] values = readBack.read();
            for (int e = 0; e < extraAt.length; e++) {
                extrasOut[e] = values[readBack.index(extraAt[e])];
            }
            List<ParameterStats> stats = new ArrayList<>(n);
            double sumSquares = 0;
            double globalMaxAbs = withMaxAbs ? 0 : Double.NaN;
            boolean anyNonFinite = false;
            for (int i = 0; i < n; i++) {
                double read = values[readBack.index(normAt[i])];
                double norm = squared[i] ? Math.sqrt(read) : read;
                if (!Double.isFinite(norm) && !torchNorms) {
                    // Rare: NaN/Inf somewhere, or a float32 overflow (a sum of squares overflows at a
                    // norm of 1.8e19). Measure again with PyTorch's norm, max |g| included.
                    return compute(gradients, scratch, withWeightNorms, true, List.of(), new double[0], true);
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
                stats.add(new ParameterStats(names.get(i), norm, maxAbs, nonFinite, weightNorm));
            }
            double globalNorm = anyNonFinite ? Double.NaN : Math.sqrt(sumSquares);
            return new StepStats(stats, globalNorm, anyNonFinite ? Double.NaN : globalMaxAbs, anyNonFinite);
        }
    }

    /**
     * Collects a step's results, 0-d scalars and 1-d vectors, and reads them back: on CPU each
     * through a zero-copy view of its storage (no stack, no copy), elsewhere stacked into one array
     * read with one host sync. Indices handed out are resolved by {@link #index} after
     * {@link #read}.
     */
    private static final class ReadBack {
        private final NDManager scratch;
        private final boolean zeroCopy;
        private final NDList scalars = new NDList();
        private final NDList vectors = new NDList();
        private int vectorLength;

        ReadBack(NDManager scratch, boolean zeroCopy) {
            this.scratch = scratch;
            this.zeroCopy = zeroCopy;
        }

        int scalar(NDArray value) {
            scalars.add(value);
            return scalars.size() - 1;
        }

        /** Returns a marker that {@link #index} turns into the position of the vector's first value. */
        int vector(NDArray values, int length) {
            vectors.add(values);
            int start = vectorLength;
            vectorLength += length;
            return VECTOR_BASE + start;
        }

        int index(int marker) {
            return marker >= VECTOR_BASE ? scalars.size() + marker - VECTOR_BASE : marker;
        }

        float[] read() {
            if (zeroCopy) {
                // Each CPU result through a view of its storage: measured 30-40 us per step cheaper
                // on the mlp than one stack (a native copy) read the same way.
                float[] out = new float[scalars.size() + vectorLength];
                int at = 0;
                for (NDArray a : scalars) {
                    at = copyInto(a, out, at);
                }
                for (NDArray a : vectors) {
                    at = copyInto(a, out, at);
                }
                return out;
            }
            NDList parts = new NDList(vectors.size() + 1);
            if (!scalars.isEmpty()) {
                parts.add(owned(NDArrays.stack(scalars), scratch));
            }
            parts.addAll(vectors);
            NDArray all = parts.size() == 1 ? parts.get(0) : owned(NDArrays.concat(parts), scratch);
            if (all.getDataType() != DataType.FLOAT32) {
                all = owned(all.toType(DataType.FLOAT32, false), scratch);
            }
            return all.toFloatArray();
        }

        private int copyInto(NDArray a, float[] out, int at) {
            NDArray f = a.getDataType() == DataType.FLOAT32 ? a : owned(a.toType(DataType.FLOAT32, false), scratch);
            FloatBuffer view = f.toByteBuffer(true).asFloatBuffer();
            int length = view.remaining();
            view.get(out, at, length);
            return at + length;
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

    /**
     * The sum of squares of a contiguous float32 gradient as one BLAS dot product of its flat view
     * with itself: a quarter of the time of {@code norm()} on CPU (8 against 37 us on 200k
     * elements), and more exact than it (1e-7 against 1e-6 relative there); above {@link
     * #ROW_NORMS_MIN_ELEMENTS} its float accumulation drifts past 1e-5, so large tensors go by rows.
     */
    private static NDArray sumOfSquares(NDArray g, NDManager scratch) {
        NDArray flat = g.getShape().dimension() == 1 ? g : owned(g.reshape(-1), scratch);
        return owned(flat.dot(flat), scratch);
    }

    /** The device scalar of one parameter: its L2 norm (by rows of a 2-D view when large). */
    private static NDArray reduce(NDArray g, boolean byRows, long rowLength, NDManager scratch) {
        if (byRows) {
            NDArray rows = owned(g.reshape(-1, rowLength), scratch);
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


    private static NDArray owned(NDArray array, NDManager scratch) {
        array.attach(scratch);
        return array;
    }
}
