package io.gradguard.core.guard;

/**
 * Thrown into the training job at {@code Trainer.step()} when the configuration asks for it
 * ({@code on_nonfinite=fail}, or {@code fail_on_max_skips=true} after too many skipped steps).
 */
public final class NonFiniteGradientException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the step and the fix
     */
    public NonFiniteGradientException(String message) {
        super(message);
    }
}
