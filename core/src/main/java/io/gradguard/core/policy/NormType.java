package io.gradguard.core.policy;

/** The two norm types the norm-clipping policies accept: 2 (L2) and infinity (max |g|). */
final class NormType {

    private NormType() {}

    static double check(double normType) {
        if (normType != 2.0 && normType != Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("norm_type must be 2 or inf, got " + normType);
        }
        return normType;
    }

    static boolean isInfinity(double normType) {
        return normType == Double.POSITIVE_INFINITY;
    }

    static String name(double normType) {
        return isInfinity(normType) ? "inf" : "L2";
    }
}
