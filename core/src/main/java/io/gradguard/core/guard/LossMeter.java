package io.gradguard.core.guard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * The step's loss: the mean of the single-element targets passed to {@code backward} since the
 * previous step (gradient accumulation calls it several times per step).
 */
final class LossMeter {

    private double sum;
    private int count;

    void add(NDArray target) {
        if (target.size() != 1) {
            return;
        }
        double value;
        if (target.getDataType() == DataType.FLOAT32) {
            value = target.getFloat();
        } else {
            try (NDArray wide = target.toType(DataType.FLOAT64, true)) {
                value = wide.getDouble();
            }
        }
        sum += value;
        count++;
    }

    /** The mean since the last call, or NaN when no loss was seen; starts a new step. */
    double take() {
        double mean = count == 0 ? Double.NaN : sum / count;
        sum = 0;
        count = 0;
        return mean;
    }
}
