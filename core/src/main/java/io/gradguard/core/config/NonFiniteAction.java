package io.gradguard.core.config;

/** What the agent does at a step whose gradients hold NaN or Inf ({@code on_nonfinite}). */
public enum NonFiniteAction {
    /** Do not run the optimizer update at all, clear the gradients, count the skip (default). */
    SKIP,
    /** Replace the non-finite gradients by zeros and let the update run. */
    ZERO,
    /** Do nothing: the update runs on the non-finite gradients (monitoring only). */
    NONE,
    /** Throw a clear exception into the training job. */
    FAIL
}
