package io.gradguard.core.policy;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/**
 * Policy {@code global-norm}: PyTorch's {@code clip_grad_norm_}. The total norm (L2 of all
 * gradients, or their max |g| for {@code norm_type: inf}) comes from the pre-clip statistics, so
 * the coefficient is computed on the host and applied with one in-place multiply per gradient.
 */
public final class GlobalNormClip implements GlobalNormPolicy {

    /** The norm to clip to; also per-parameter-norm's bound and zscore's optional cap. */
    public static final ConfigKey<Double> MAX_NORM = ConfigKey.of(
                    "policy.max_norm",
                    ValueTypes.number(Range.POSITIVE, null),
                    1.0,
                    "global-norm, per-parameter-norm: norm to clip to; zscore: optional extra cap")
            .withDefaultText("1.0 (zscore: no cap)")
            .in(Part.PROTECTION);
    /** Which norm is compared with max_norm. */
    public static final ConfigKey<Double> NORM_TYPE = ConfigKey.of(
                    "policy.norm_type", ValueTypes.normType(), 2.0, "global-norm, per-parameter-norm: the norm used")
            .in(Part.PROTECTION);

    /** Registration. */
    public static final PolicyType TYPE = new PolicyType(
            "global-norm",
            "like PyTorch clip_grad_norm_: scale all gradients so that their joint norm is at most max_norm",
            List.of(MAX_NORM, NORM_TYPE),
            c -> new GlobalNormClip(c.get(MAX_NORM), c.get(NORM_TYPE)));

    private final double maxNorm;
    private final double normType;

    /**
     * Creates the policy.
     *
     * @param maxNorm the global norm to clip to, &gt; 0
     * @param normType 2 or {@link Double#POSITIVE_INFINITY}
     */
    public GlobalNormClip(double maxNorm, double normType) {
        this.maxNorm = Settings.require(MAX_NORM, maxNorm);
        this.normType = Settings.require(NORM_TYPE, normType);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "clip global " + GlobalNormScaling.normName(normType) + " norm to " + Settings.format(maxNorm)
                + " (torch clip_grad_norm_)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of(MAX_NORM, maxNorm, NORM_TYPE, normType);
    }

    /** {@inheritDoc} */
    @Override
    public boolean needsMaxAbs() {
        return GlobalNormScaling.isInfinity(normType);
    }

    /** {@inheritDoc} */
    @Override
    public double decide(StepStats stats) {
        double total = GlobalNormScaling.isInfinity(normType) ? stats.globalMaxAbs() : stats.globalNorm();
        return GlobalNormScaling.coefficient(total, maxNorm);
    }
}
