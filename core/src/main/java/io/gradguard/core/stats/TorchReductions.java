package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.djl.Scratch;

/** The native reductions of a gradient: each returns a device scalar owned by {@code scratch}. */
final class TorchReductions {

    /**
     * Float32 gradients above this size are reduced row by row: one {@code norm()} accumulation
     * over millions of float32 elements drifts past 1e-5 relative (6e-5 to 9e-5 measured on
     * wide-mlp's 3.2M and 4.2M element weights), rows of a few hundred stay near 1e-7. Below it
     * {@code norm()} is exact to about 1e-7 and bit-identical to PyTorch's per-parameter norm.
     */
    static final long ROW_NORMS_MIN_ELEMENTS = 1L << 18;

    static final int[] ROW_AXIS = {1};

    private TorchReductions() {}

    /**
     * The sum of squares of a contiguous float32 gradient as one BLAS dot product of its flat view
     * with itself: a quarter of the time of {@code norm()} on CPU (8 against 37 us on 200k
     * elements), and more exact than it (1e-7 against 1e-6 relative there); above {@link
     * #ROW_NORMS_MIN_ELEMENTS} its float accumulation drifts past 1e-5, so large tensors go by rows.
     */
    static NDArray sumOfSquares(NDArray g, Scratch scratch) {
        NDArray flat = g.getShape().dimension() == 1 ? g : scratch.own(g.reshape(-1));
        return scratch.own(flat.dot(flat));
    }

    /** The device scalar of one parameter: its L2 norm (by rows of a 2-D view when large). */
    static NDArray norm(NDArray g, boolean byRows, long rowLength, Scratch scratch) {
        if (byRows) {
            NDArray rows = scratch.own(g.reshape(-1, rowLength));
            NDArray rowNorms = scratch.own(rows.norm(ROW_AXIS, false));
            return scratch.own(rowNorms.norm());
        }
        return scratch.own(g.norm());
    }

    /**
     * Rows of a few hundred elements or more: long enough for the vectorised inner loop, short
     * enough that float32 accumulation in a row stays exact to about 1e-7.
     */
    static long rowLength(Shape shape) {
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
    static NDArray maxAbs(NDArray g, Scratch scratch) {
        if (g.size() <= ROW_NORMS_MIN_ELEMENTS) {
            return scratch.own(scratch.own(g.abs()).max());
        }
        NDArray max = scratch.own(g.max());
        NDArray negMin = scratch.own(g.min()).negi();
        return scratch.own(max.maximum(negMin));
    }
}
