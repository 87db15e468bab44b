package io.gradguard.core.step;

/** What became of one {@code Trainer.step()}. */
public enum StepAction {
    /** DJL's update ran (on the gradients as the policy left them). */
    APPLIED,
    /** The update was not run: the gradients were not finite (or the recovery ladder said so). */
    SKIPPED,
    /** The agent failed the job, as configured ({@code on_nonfinite=fail}, {@code fail_on_max_skips}). */
    FAILED,
    /** DJL's own update threw: not counted as a step. */
    DJL_THREW
}
