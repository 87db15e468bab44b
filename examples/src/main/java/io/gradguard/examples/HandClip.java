package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --hand-clip MAX_NORM}: global-norm clipping as a DJL user writes it by hand today, the
 * baseline the agent's overhead is compared with. One {@code norm().getFloat()} per parameter (a
 * host sync each), the global norm on the host, then {@code muli} in place when the coefficient is
 * below 1, with PyTorch's {@code clip_grad_norm_} rule {@code max_norm / (total + 1e-6)}.
 */
final class HandClip implements BeforeStep {

    private final float maxNorm;
    private double lastGlobalNorm = Double.NaN;
    private int clippedSteps;

    HandClip(float maxNorm) {
        this.maxNorm = maxNorm;
    }

    @Override
    public void beforeStep(int step, ParameterList parameters) {
        List<NDArray> gradients = new ArrayList<>(parameters.size());
        try {
            double sumOfSquares = 0;
            for (Pair<String, Parameter> entry : parameters) {
                if (!entry.getValue().requiresGradient()) {
                    continue;
                }
                // getGradient() opens a new native handle that shares the real gradient's storage.
                NDArray gradient = entry.getValue().getArray().getGradient();
                gradients.add(gradient);
                try (NDArray norm = gradient.norm()) {
                    float value = norm.getFloat();
                    sumOfSquares += (double) value * value;
                }
            }
            lastGlobalNorm = Math.sqrt(sumOfSquares);
            double coefficient = maxNorm / (lastGlobalNorm + 1e-6);
            if (coefficient < 1.0) {
                float factor = (float) coefficient;
                for (NDArray gradient : gradients) {
                    gradient.muli(factor);
                }
                clippedSteps++;
            }
        } finally {
            for (NDArray gradient : gradients) {
                gradient.close();
            }
        }
    }

    /** The pre-clip global norm of the last step (tests). */
    double lastGlobalNorm() {
        return lastGlobalNorm;
    }

    /** Steps whose gradients were scaled (tests). */
    int clippedSteps() {
        return clippedSteps;
    }
}
