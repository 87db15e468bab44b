package io.gradguard.core.djl;

import ai.djl.nn.Parameter;

/**
 * A parameter the optimizer updates.
 *
 * @param name its name in the block tree, e.g. {@code 02Linear_weight} (the first name, when a
 *     block is used twice)
 * @param parameter the parameter
 */
public record TrainableParameter(String name, Parameter parameter) {}
