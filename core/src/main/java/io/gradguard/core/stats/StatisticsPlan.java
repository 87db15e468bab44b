package io.gradguard.core.stats;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.djl.DirectSumsOfSquares;
import io.gradguard.core.djl.Scratch;
import io.gradguard.core.djl.StorageViews;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one list of gradients is reduced, decided once per set of trainable parameters (shapes,
 * types and devices do not change from step to step) and reused at every step.
 *
 * <p>Each gradient goes the cheapest exact way. On CPU, small float32 gradients are read in Java
 * through views of their storage ({@link HostSums}: no native call at all), the others by one BLAS
 * dot product each, or by row norms when large. Where the plan is kept across steps, the dot
 * products are made on raw handles ({@link DirectSumsOfSquares}), otherwise through DJL with each
 * result copied back by one native call.
 * On other devices, where every call is a kernel launch, small gradients that share a shape are
 * stacked and reduced by one row-wise {@code norm} per shape, and everything is read back with one
 * host sync.
 *
 * <p>A plan is used by one thread at a time (its trainer's): it holds the buffer its Java sums read into.
 */
public final class StatisticsPlan {

    /**
     * CPU gradients up to this size are summed in Java: at 2-6 us per native reduction and 0.29 ns
     * per float in Java, the break-even is 7,000-20,000 floats; this keeps a margin for a cold cache
     * and for max |g|, whose loop is slower. A deep MLP's 64 x 64 weights (4,096) are summed here.
     */
    static final long HOST_MAX_ELEMENTS = 8192;

    /** Off CPU, gradients up to this size are stacked with others of their shape (the stack is a copy). */
    static final long GROUP_MAX_ELEMENTS = 1L << 14;

    private final List<String> names;
    private final boolean cpu;
    private final ShapeGroups groups;
    private final boolean[] byRows;
    private final boolean[] byDot;
    private final long[] rowLength;
    /** Flat views of the dot-reduced gradients, kept across steps; null entries elsewhere. */
    private final NDArray[] flat;
    /** Views of the storage of the gradients summed in Java; null entries elsewhere. */
    private final FloatBuffer[] host;
    /** Sums the host views; null where there are none. */
    private final HostSums hostSums;
    /** Each gradient's place in {@link #direct}, or -1. */
    private final int[] directSlot;
    /** The sums of squares of the kept flat views on raw handles; null where there are none or no binding. */
    private DirectSumsOfSquares direct;

    // A step's bookkeeping per gradient, kept with the plan rather than made at every step (the
    // plan is used by one thread at a time): where each result lands in the read, and which sums
    // of squares are already in Java (summed there, or made on raw handles).
    private final int[] normAt;
    private final int[] maxAbsAt;
    private final int[] weightAt;
    private final boolean[] squared;
    private final boolean[] inJava;
    private final double[] javaSquares;
    private final double[] hostMaxAbs;

    private StatisticsPlan(
            List<String> names,
            boolean cpu,
            ShapeGroups groups,
            boolean[] byRows,
            boolean[] byDot,
            long[] rowLength,
            NDArray[] flat,
            FloatBuffer[] host) {
        this.names = names;
        this.cpu = cpu;
        this.groups = groups;
        this.byRows = byRows;
        this.byDot = byDot;
        this.rowLength = rowLength;
        this.flat = flat;
        this.host = host;
        this.hostSums = anyHostView(host) ? new HostSums() : null;
        this.directSlot = new int[names.size()];
        List<NDArray> keptViews = new ArrayList<>();
        for (int i = 0; i < directSlot.length; i++) {
            directSlot[i] = cpu && flat[i] != null ? keptViews.size() : -1;
            if (directSlot[i] >= 0) {
                keptViews.add(flat[i]);
            }
        }
        this.direct = keptViews.isEmpty() ? null : DirectSumsOfSquares.of(keptViews);
        int n = names.size();
        this.normAt = new int[n];
        this.maxAbsAt = new int[n];
        this.weightAt = new int[n];
        this.squared = new boolean[n];
        this.inJava = new boolean[n];
        this.javaSquares = new double[n];
        this.hostMaxAbs = new double[n];
    }

    private static boolean anyHostView(FloatBuffer[] host) {
        for (FloatBuffer view : host) {
            if (view != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * A plan for one step's gradients.
     *
     * @param gradients one step's gradients
     * @return the plan for gradients of these parameters
     */
    public static StatisticsPlan of(List<ParameterGradient> gradients) {
        return of(gradients, null);
    }

    /**
     * A plan for gradient handles that are kept across steps: it keeps flat views of them too
     * (a view aliases the gradient's storage, so it follows every in-place update), sparing a
     * reshape, a native call and a handle per parameter per step.
     *
     * @param gradients the kept gradients
     * @param views owner of the flat views, closed with the gradient handles; null for none
     * @return the plan
     */
    public static StatisticsPlan of(List<ParameterGradient> gradients, NDManager views) {
        int n = gradients.size();
        List<String> names = new ArrayList<>(n);
        boolean cpu = true;
        for (ParameterGradient p : gradients) {
            names.add(p.name());
            cpu &= Device.Type.CPU.equals(p.gradient().getDevice().getDeviceType());
        }
        boolean[] byRows = new boolean[n];
        boolean[] byDot = new boolean[n];
        long[] rowLength = new long[n];
        FloatBuffer[] host = new FloatBuffer[n];
        Map<Shape, List<Integer>> byShape = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            NDArray g = gradients.get(i).gradient();
            Shape shape = g.getShape();
            boolean float32 = g.getDataType() == DataType.FLOAT32;
            if (cpu && float32 && shape.size() > 0 && shape.size() <= HOST_MAX_ELEMENTS) {
                host[i] = StorageViews.floats(g);
            }
            if (!cpu && float32 && shape.dimension() > 0 && shape.size() > 0 && shape.size() <= GROUP_MAX_ELEMENTS) {
                byShape.computeIfAbsent(shape, k -> new ArrayList<>()).add(i);
            }
            byRows[i] = float32 && shape.size() > TorchReductions.ROW_NORMS_MIN_ELEMENTS && shape.dimension() >= 2;
            byDot[i] = float32 && !byRows[i] && shape.size() > 0;
            rowLength[i] = TorchReductions.rowLength(shape);
        }
        ShapeGroups groups = ShapeGroups.of(n, byShape);
        NDArray[] flat = new NDArray[n];
        Scratch viewOwner = views == null ? null : Scratch.in(views);
        for (int i = 0; viewOwner != null && i < n; i++) {
            NDArray g = gradients.get(i).gradient();
            if (byDot[i] && !groups.contains(i) && host[i] == null) {
                flat[i] = g.getShape().dimension() == 1 ? g : viewOwner.own(g.reshape(-1));
            }
        }
        return new StatisticsPlan(List.copyOf(names), cpu, groups, byRows, byDot, rowLength, flat, host);
    }

    /**
     * The plan's view of one gradient's storage, where it reads that gradient in Java.
     *
     * @param index the gradient's position in the list the plan was made for
     * @return the view, or null where the gradient is reduced natively
     */
    public FloatBuffer hostView(int index) {
        return host[index];
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
     * Computes the statistics with at most one host read (none at all on CPU, where each result
     * is copied back by one native call), and reads further scalars in the same read.
     *
     * @param gradients the step's gradients, those this plan was made for
     * @param scratch owner of every temporary
     * @param withWeightNorms whether to measure the weights' L2 norms
     * @param withMaxAbs whether to measure max |g| (see {@link GradientStatistics#compute})
     * @param extras further device scalars to read in the same read (the step's losses)
     * @param extrasOut receives their values, in order; at least {@code extras.size()} long
     * @return the statistics, with per-parameter entries in the order of {@code gradients}
     */
    public StepStats compute(
            List<ParameterGradient> gradients,
            Scratch scratch,
            boolean withWeightNorms,
            boolean withMaxAbs,
            List<NDArray> extras,
            double[] extrasOut) {
        return compute(gradients, scratch, withWeightNorms, withMaxAbs, extras, extrasOut, false);
    }

    /** With {@code torchNorms}, every norm is PyTorch's own {@code norm()} (the re-measure of a rare bad step). */
    private StepStats compute(
            List<ParameterGradient> gradients,
            Scratch scratch,
            boolean withWeightNorms,
            boolean withMaxAbs,
            List<NDArray> extras,
            double[] extrasOut,
            boolean torchNorms) {
        int n = gradients.size();
        if (n == 0 && extras.isEmpty()) {
            return new StepStats(List.of(), 0.0, withMaxAbs ? 0.0 : Double.NaN, false);
        }
        ResultReadBack readBack = new ResultReadBack(scratch, cpu);
        double[] directSums = torchNorms ? null : directSums();
        groups.reduce(gradients, scratch, withMaxAbs, readBack, normAt, maxAbsAt);
        for (int i = 0; i < n; i++) {
            NDArray g = gradients.get(i).gradient();
            inJava[i] = false;
            squared[i] = false;
            if (host[i] != null && !torchNorms) {
                inJava[i] = true;
                javaSquares[i] = hostSums.sumOfSquares(host[i]);
                hostMaxAbs[i] = withMaxAbs ? hostSums.maxAbs(host[i]) : Double.NaN;
            } else if (directSums != null && directSlot[i] >= 0) {
                inJava[i] = true;
                javaSquares[i] = directSums[directSlot[i]];
                if (withMaxAbs) {
                    maxAbsAt[i] = readBack.scalar(TorchReductions.maxAbs(g, scratch));
                }
            } else if (!groups.contains(i)) {
                squared[i] = byDot[i] && !torchNorms;
                normAt[i] = readBack.scalar(
                        squared[i]
                                ? TorchReductions.sumOfSquares(flat[i] != null ? flat[i] : g, scratch)
                                : TorchReductions.norm(g, byRows[i] && !torchNorms, rowLength[i], scratch));
                if (withMaxAbs) {
                    maxAbsAt[i] = readBack.scalar(TorchReductions.maxAbs(g, scratch));
                }
            }
        }
        if (withWeightNorms) {
            weightNorms(gradients, scratch, readBack);
        }
        int[] extraAt = new int[extras.size()];
        for (int e = 0; e < extraAt.length; e++) {
            extraAt[e] = readBack.scalar(extras.get(e));
        }
        float[] values = readBack.read();
        for (int e = 0; e < extraAt.length; e++) {
            extrasOut[e] = values[readBack.index(extraAt[e])];
        }
        ParameterStats[] stats = new ParameterStats[n];
        double sumSquares = 0;
        double globalMaxAbs = withMaxAbs ? 0 : Double.NaN;
        boolean anyNonFinite = false;
        for (int i = 0; i < n; i++) {
            double read = inJava[i] ? javaSquares[i] : values[readBack.index(normAt[i])];
            double norm = inJava[i] || squared[i] ? Math.sqrt(read) : read;
            if (!Double.isFinite(norm) && !torchNorms) {
                // Rare: NaN/Inf somewhere, or a float32 overflow (a sum of squares overflows at a
                // norm of 1.8e19). Measure again with PyTorch's norm, max |g| included.
                return compute(gradients, scratch, withWeightNorms, true, List.of(), new double[0], true);
            }
            double maxAbs = !withMaxAbs
                    ? Double.NaN
                    : host[i] != null && !torchNorms ? hostMaxAbs[i] : values[readBack.index(maxAbsAt[i])];
            double weightNorm = withWeightNorms ? values[readBack.index(weightAt[i])] : Double.NaN;
            // A float32 norm can overflow to Inf while every element is finite; max-abs cannot.
            boolean nonFinite = withMaxAbs && !Double.isFinite(maxAbs);
            anyNonFinite |= nonFinite;
            sumSquares += norm * norm;
            if (withMaxAbs) {
                globalMaxAbs = Math.max(globalMaxAbs, maxAbs);
            }
            stats[i] = new ParameterStats(names.get(i), norm, maxAbs, nonFinite, weightNorm);
        }
        double globalNorm = anyNonFinite ? Double.NaN : Math.sqrt(sumSquares);
        // an immutable list from the start: the record keeps it without another copy
        return new StepStats(List.of(stats), globalNorm, anyNonFinite ? Double.NaN : globalMaxAbs, anyNonFinite);
    }

    /**
     * The weights' norms into {@link #weightAt}, on sampled steps (every step only for a policy that
     * reads them). A method of its own, called once a step, so that where it runs rarely the JIT
     * compiles the every-step path without inlining the sub-manager and norm calls these make: with them inside, C2 spent 234-250 ms on {@link
     * #compute} in a 2,000-step mlp job, 120-198 ms without (JFR's compilation events).
     */
    private void weightNorms(List<ParameterGradient> gradients, Scratch scratch, ResultReadBack readBack) {
        for (int i = 0; i < gradients.size(); i++) {
            // Weight norms are compared across steps, never to 1e-5: one norm() call is enough.
            weightAt[i] = readBack.scalar(scratch.own(gradients.get(i).weight().norm()));
        }
    }

    /**
     * This step's sums of squares made on raw handles, or null: no kept views, no binding, or a
     * failed call (DJL's path from then on).
     */
    private double[] directSums() {
        double[] sums = direct == null ? null : direct.compute();
        if (sums == null) {
            direct = null;
        }
        return sums;
    }
}
