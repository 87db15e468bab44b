package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;
import java.nio.FloatBuffer;

/**
 * One trainable parameter at a step: its weights and the gradient the optimizer is about to read.
 *
 * <p>With several devices the gradient is the sum of the device copies (the engine reduces them
 * first), so statistics and policies always describe the true gradient. Policies modify {@code
 * gradient} in place; nobody closes {@code weight} or {@code gradient} but their owner.
 *
 * @param name DJL parameter name, e.g. {@code 02Linear_weight}
 * @param weight the parameter's weights
 * @param gradient the gradient the optimizer will apply
 * @param hostView a view of the gradient's own storage (a small float32 CPU gradient whose handle
 *     is kept across steps), through which it can be read and scaled in Java; null for none
 */
public record ParameterGradient(String name, NDArray weight, NDArray gradient, FloatBuffer hostView) {

    /**
     * A parameter's gradient without a storage view.
     *
     * @param name DJL parameter name
     * @param weight the parameter's weights
     * @param gradient the gradient the optimizer will apply
     */
    public ParameterGradient(String name, NDArray weight, NDArray gradient) {
        this(name, weight, gradient, null);
    }
}
