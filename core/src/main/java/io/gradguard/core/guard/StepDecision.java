package io.gradguard.core.guard;

/** What {@link StepGuard#beforeStep} decided for the optimizer update of one step. */
public enum StepDecision {
    /** Run {@code Trainer.step()} as usual. */
    PROCEED,
    /** Do not run the update (the gradients were not finite); they have been cleared. */
    SKIP,
    /** Fail the job: {@code beforeStep} throws {@link NonFiniteGradientException}. */
    FAIL
}
