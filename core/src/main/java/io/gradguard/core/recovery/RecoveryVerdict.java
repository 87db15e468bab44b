package io.gradguard.core.recovery;

/**
 * What the recovery ladder says to do at one step.
 *
 * @param action the ladder's action
 * @param lrScale the factor to apply to the job's rate from this update on
 * @param status the state after this step, for the report
 */
public record RecoveryVerdict(RecoveryAction action, double lrScale, RecoveryStatus status) {

    /** @return whether this step's update must not run */
    public boolean skipsUpdate() {
        return action == RecoveryAction.SKIP || action == RecoveryAction.REWIND || action == RecoveryAction.FAIL;
    }
}
