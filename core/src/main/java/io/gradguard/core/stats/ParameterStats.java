package io.gradguard.core.stats;

/**
 * Statistics of one parameter's gradient at one step, read back to the host.
 *
 * @param name DJL parameter name
 * @param gradNorm L2 norm of the gradient (NaN or Inf if the gradient is not finite)
 * @param gradMaxAbs max |g| over the gradient's elements
 * @param nonFinite whether the gradient holds a NaN or an Inf
 * @param weightNorm L2 norm of the weights, or NaN when not sampled this step
 */
public record ParameterStats(String name, double gradNorm, double gradMaxAbs, boolean nonFinite, double weightNorm) {}
