package io.gradguard.core.djl;

/** The DJL versions gradguard is tested with, said in one place for every message that names them. */
public final class SupportedDjl {

    /** The first DJL version tested. */
    public static final String FIRST_TESTED = "0.32.0";
    /** The last DJL version tested. */
    public static final String LAST_TESTED = "0.36.0";
    /** The tested range, as messages and the README say it. */
    public static final String RANGE = "DJL " + FIRST_TESTED + " to " + LAST_TESTED;

    private SupportedDjl() {}

    /**
     * The DJL version in use, as DJL says it.
     *
     * @return e.g. {@code 0.35.1}, or {@code (version unknown)}
     */
    public static String seen() {
        try {
            return ai.djl.engine.Engine.getDjlVersion();
        } catch (LinkageError | RuntimeException e) {
            return "(version unknown)";
        }
    }
}
