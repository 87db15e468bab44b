package io.gradguard.core.policy;

import io.gradguard.core.config.PolicyConfig;

/** Creates the {@link ClipPolicy} a {@link PolicyConfig} names. */
public final class ClipPolicies {

    private ClipPolicies() {}

    /**
     * Creates a fresh policy (stateful policies start with empty history / EMA).
     *
     * @param c the policy section of the configuration
     * @return the policy of type {@code c.type()}
     * @throws IllegalArgumentException for an unknown type or a setting out of range
     */
    public static ClipPolicy create(PolicyConfig c) {
        return switch (c.type()) {
            case "none" -> new NoClip();
            case "value" -> new ValueClip(c.clipValue());
            case "global-norm" -> new GlobalNormClip(c.maxNorm(), c.normType());
            case "per-parameter-norm" -> new PerParameterNormClip(c.maxNorm(), c.normType());
            case "agc" -> new AdaptiveGradientClip(c.lambda());
            case "percentile" -> new PercentileClip(c.percentile(), c.history());
            case "zscore" -> new ZScoreClip(c.zThreshold(), c.alpha(), c.warmupSteps(), c.maxNorm());
            default -> throw new IllegalArgumentException(
                    "unknown policy type '" + c.type() + "', expected one of " + PolicyConfig.TYPES);
        };
    }
}
