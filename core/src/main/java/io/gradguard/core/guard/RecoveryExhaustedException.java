package io.gradguard.core.guard;

/** The recovery ladder gave up on a run and {@code recovery.on_exhausted=fail}: one line, the step and the fix. */
public final class RecoveryExhaustedException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line
     */
    public RecoveryExhaustedException(String message) {
        super(message);
    }
}
