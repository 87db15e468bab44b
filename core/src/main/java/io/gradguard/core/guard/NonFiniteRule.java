package io.gradguard.core.guard;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.NonFiniteAction;
import io.gradguard.core.console.Console;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.StepAction;
import java.util.List;

/**
 * {@code on_nonfinite} and the skip-streak limit: what a step whose gradients hold NaN or Inf
 * becomes. Keeps the count of skipped steps in a row.
 */
final class NonFiniteRule {

    private int consecutiveSkips;

    /** The step was applied: the streak ends. */
    void applied() {
        consecutiveSkips = 0;
    }

    int consecutiveSkips() {
        return consecutiveSkips;
    }

    /**
     * Decides a non-finite step, and carries it out on the gradients.
     *
     * @param gradientsChecked DJL's flag: whether its first-step all-zero check already passed
     */
    StepAction decide(
            GradGuardConfig config, List<ParameterGradient> grads, StepStats stats, boolean gradientsChecked) {
        NonFiniteAction action = config.onNonfinite();
        switch (action) {
            case NONE:
                return StepAction.APPLIED;
            case FAIL:
                return StepAction.FAILED;
            case ZERO:
                boolean allZeroed = true;
                for (int i = 0; i < grads.size(); i++) {
                    if (stats.parameters().get(i).nonFinite()) {
                        GradientOps.zeroInPlace(grads.get(i).gradient());
                    } else {
                        allZeroed = false;
                    }
                }
                // DJL's first step refuses all-zero gradients with an exception: skip instead.
                if (!(allZeroed && !gradientsChecked)) {
                    return StepAction.APPLIED;
                }
                break;
            case SKIP:
            default:
                // The update must not run at all: Adam's moments would still move the weights on
                // zero gradients. Clear them too, or they would add into the next backward.
                for (ParameterGradient g : grads) {
                    GradientOps.zeroInPlace(g.gradient());
                }
                break;
        }
        consecutiveSkips++;
        int limit = config.maxConsecutiveSkips();
        if (limit > 0 && consecutiveSkips == limit) {
            Console.warn(limit + " optimizer steps in a row skipped for non-finite gradients (max_consecutive_skips); "
                    + (config.failOnMaxSkips()
                            ? "failing the job (fail_on_max_skips=true)"
                            : "training is not progressing: lower the learning rate or add a clipping policy"));
            if (config.failOnMaxSkips()) {
                return StepAction.FAILED;
            }
        }
        return StepAction.SKIPPED;
    }

    /** The one-line exception thrown into the job after {@link StepAction#FAILED}. */
    RuntimeException failure(long step) {
        return new NonFiniteGradientException("gradguard: non-finite gradients at step " + step
                + (consecutiveSkips > 0 ? " (" + consecutiveSkips + " skipped in a row)" : "")
                + " and on_nonfinite=fail or fail_on_max_skips=true; lower the learning rate, add a"
                + " clipping policy, or set on_nonfinite=skip");
    }
}
