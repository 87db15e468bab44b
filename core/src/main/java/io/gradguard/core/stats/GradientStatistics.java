package io.gradguard.core.stats;

import ai.djl.ndarray.NDManager;
import io.gradguard.core.djl.Scratch;
import java.util.List;

/**
 * A step's gradient statistics: each parameter's L2 norm (and max |g| when asked), the global
 * norm, and whether any gradient holds NaN/Inf, with at most one host read and, on a normal step,
 * at most one native reduction per parameter ({@link StatisticsPlan} says which).
 *
 * <p>Non-finite gradients are found from the norms themselves: a NaN anywhere makes the norm NaN and
 * an Inf makes it Inf, so no separate scan runs on healthy steps. Only when some norm is not finite
 * is max |g| measured, because a float32 norm can overflow to Inf while every element is finite.
 * max |g| (two reductions per parameter on the native path) is otherwise measured only when asked:
 * the inf-norm and value policies need it every step, the metrics only now and then.
 */
public final class GradientStatistics {

    private GradientStatistics() {}

    /**
     * Computes the statistics of the given gradients, max |g| included.
     *
     * @param gradients the step's gradients
     * @param scratch the manager that owns every temporary created here; the caller closes it
     * @param withWeightNorms whether to also measure the weights' L2 norms
     * @return the statistics, with per-parameter entries in the order of {@code gradients}
     */
    public static StepStats compute(List<ParameterGradient> gradients, NDManager scratch, boolean withWeightNorms) {
        return compute(gradients, scratch, withWeightNorms, true);
    }

    /**
     * Computes the statistics of the given gradients.
     *
     * @param gradients the step's gradients
     * @param scratch the manager that owns every temporary created here; the caller closes it
     * @param withWeightNorms whether to also measure the weights' L2 norms
     * @param withMaxAbs whether to measure max |g|; when false, {@link ParameterStats#gradMaxAbs()}
     *     and {@link StepStats#globalMaxAbs()} are NaN unless some gradient is not finite (then it
     *     is measured anyway, to tell an overflowing norm from a non-finite element)
     * @return the statistics, with per-parameter entries in the order of {@code gradients}
     */
    public static StepStats compute(
            List<ParameterGradient> gradients, NDManager scratch, boolean withWeightNorms, boolean withMaxAbs) {
        return compute(gradients, Scratch.in(scratch), withWeightNorms, withMaxAbs);
    }

    /**
     * Measures only the global L2 norm of the gradients (after a policy changed them), with one
     * host read.
     *
     * @param gradients the gradients
     * @param scratch owner of the temporaries
     * @return the global L2 norm
     */
    public static double globalNorm(List<ParameterGradient> gradients, Scratch scratch) {
        return compute(gradients, scratch, false, false).globalNorm();
    }

    private static StepStats compute(
            List<ParameterGradient> gradients, Scratch scratch, boolean withWeightNorms, boolean withMaxAbs) {
        return StatisticsPlan.of(gradients)
                .compute(gradients, scratch, withWeightNorms, withMaxAbs, List.of(), new double[0]);
    }
}
