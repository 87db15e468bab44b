package io.gradguard.core.config;

/**
 * The {@code policy:} section: which clipping policy runs and its settings. Every field holds a
 * validated value; fields a policy does not use are ignored by it.
 *
 * @param type none | value | global-norm | per-parameter-norm | agc | percentile | zscore
 * @param maxNorm global-norm, per-parameter-norm: the norm to clip to (default 1.0); zscore: an
 *     optional extra cap, NaN when not set
 * @param normType 2 or {@code Double.POSITIVE_INFINITY} (global-norm, per-parameter-norm)
 * @param clipValue value: clamp every element to [-clipValue, clipValue] (default 1.0)
 * @param lambda agc: the clipping factor (default 0.01)
 * @param percentile percentile: p of the p-th percentile of past global norms (default 10)
 * @param history percentile: how many past global norms are kept (default 1000)
 * @param zThreshold zscore: z above which the norm is clipped (default 2.5)
 * @param alpha zscore: EMA smoothing factor (default 0.97)
 * @param warmupSteps zscore: steps that pass unclipped and seed the EMA (default 25)
 */
public record PolicyConfig(
        String type,
        double maxNorm,
        double normType,
        double clipValue,
        double lambda,
        double percentile,
        int history,
        double zThreshold,
        double alpha,
        int warmupSteps) {

    /** The policy types accepted in configuration. */
    public static final java.util.List<String> TYPES =
            java.util.List.of(
                    "none", "value", "global-norm", "per-parameter-norm", "agc", "percentile", "zscore");

    /**
     * The defaults of the metric contract, for the given type.
     *
     * @param type a policy type from {@link #TYPES}
     * @return a config with every other field at its default
     */
    public static PolicyConfig defaults(String type) {
        double maxNorm = "zscore".equals(type) ? Double.NaN : 1.0;
        return new PolicyConfig(type, maxNorm, 2.0, 1.0, 0.01, 10, 1000, 2.5, 0.97, 25);
    }
}
