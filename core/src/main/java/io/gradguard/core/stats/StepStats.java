package io.gradguard.core.stats;

import java.util.List;

/**
 * Gradient statistics of a whole step, before any clipping.
 *
 * @param parameters one entry per parameter, in the order the gradients were given
 * @param globalNorm L2 norm over all gradients: sqrt of the sum of squared per-parameter norms
 * @param globalMaxAbs max |g| over all gradients (the global inf-norm)
 * @param nonFinite whether any gradient holds a NaN or an Inf
 */
public record StepStats(List<ParameterStats> parameters, double globalNorm, double globalMaxAbs, boolean nonFinite) {

    /** Defensive copy: a record handed to metrics and policies must not change under them. */
    public StepStats {
        parameters = List.copyOf(parameters);
    }
}
