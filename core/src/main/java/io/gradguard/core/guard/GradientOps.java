package io.gradguard.core.guard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/** In-place operations on gradients that must also work when they hold NaN or Inf. */
final class GradientOps {

    private GradientOps() {}

    /**
     * Sets every element to zero in place. {@code muli(0)} and {@code subi(self)} keep NaN (NaN*0 =
     * NaN), so this writes zeros through an index assignment, which PyTorch does in place.
     */
    static void zeroInPlace(NDArray gradient) {
        gradient.set(new NDIndex("..."), 0f);
    }
}
