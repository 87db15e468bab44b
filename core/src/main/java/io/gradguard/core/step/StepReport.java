package io.gradguard.core.step;

import io.gradguard.core.detect.Detection;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.recovery.RecoveryStatus;
import io.gradguard.core.stats.StepStats;

/**
 * Everything the agent saw and did at one optimizer step, built once by the step engine and handed
 * to every {@link StepSink} (metrics, console summary, step log, ...). Immutable.
 *
 * @param model the model label
 * @param step 1-based step number of this trainer
 * @param wallMillis when the step was taken, epoch milliseconds
 * @param stats pre-clip gradient statistics; per-parameter max |g| is NaN on steps that did not
 *     measure it
 * @param clip what the policy did
 * @param policy the active policy
 * @param action what became of the step
 * @param skipReason why it was skipped ({@code nonfinite}, {@code outlier}, {@code rewind}), or null
 * @param detection the detector's verdict
 * @param loss mean of the losses passed to {@code backward} since the previous step; NaN if none
 * @param updateRatios ||dw|| / ||w|| per parameter, in the order of {@code stats}, on sampled steps
 *     whose update ran; null otherwise
 * @param recovery the recovery ladder's state and action at this step; null when it is off
 * @param consecutiveSkips skipped steps in a row, this one included
 * @param agentNanos the agent's own time at this step (the sinks' time of the step before included)
 */
public record StepReport(
        String model,
        long step,
        long wallMillis,
        StepStats stats,
        ClipResult clip,
        PolicyDescription policy,
        StepAction action,
        String skipReason,
        Detection detection,
        double loss,
        double[] updateRatios,
        RecoveryStatus recovery,
        int consecutiveSkips,
        long agentNanos) {

    /** @return whether the optimizer update was skipped */
    public boolean skipped() {
        return action == StepAction.SKIPPED;
    }

    /** @return whether the step counts as an optimizer step (DJL did not throw) */
    public boolean counted() {
        return action != StepAction.DJL_THREW;
    }
}
