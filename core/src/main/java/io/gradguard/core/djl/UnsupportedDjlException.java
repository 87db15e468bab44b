package io.gradguard.core.djl;

/** This DJL has a shape gradguard does not know; the message says which and what to do. */
public final class UnsupportedDjlException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming what is missing and the supported versions
     */
    public UnsupportedDjlException(String message) {
        super(message);
    }
}
