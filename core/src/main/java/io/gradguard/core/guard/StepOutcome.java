package io.gradguard.core.guard;

/**
 * What the engine decided at {@code Trainer.step()} entry: run DJL's update, skip it, or fail the
 * job with the exception carried here.
 *
 * @param runUpdate whether DJL's update runs
 * @param failure the exception to throw into the job instead, or null
 */
public record StepOutcome(boolean runUpdate, RuntimeException failure) {

    /** Run DJL's update. */
    public static final StepOutcome PROCEED = new StepOutcome(true, null);
    /** Do not run it. */
    public static final StepOutcome SKIP = new StepOutcome(false, null);

    /**
     * Fail the job.
     *
     * @param failure the one-line exception to throw
     * @return the outcome
     */
    public static StepOutcome fail(RuntimeException failure) {
        return new StepOutcome(false, failure);
    }
}
