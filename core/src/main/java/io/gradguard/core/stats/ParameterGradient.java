package io.gradguard.core.stats;

import ai.djl.ndarray.NDArray;

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
 */
public record ParameterGradient(String name, NDArray weight, NDArray gradient) {}
