package io.gradguard.core.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * Copies one array's values into another in place (an indexed assignment, which PyTorch performs
 * on the target's own storage), so that every handle of the target, the optimizer's included, sees
 * the values: the way a weight or an optimizer state is put back bit for bit.
 */
public final class Overwrite {

    private Overwrite() {}

    /**
     * Overwrites {@code target} with {@code source}'s values.
     *
     * @param target the array to write, same shape
     * @param source the values
     */
    public static void with(NDArray target, NDArray source) {
        target.set(new NDIndex("..."), source);
    }
}
