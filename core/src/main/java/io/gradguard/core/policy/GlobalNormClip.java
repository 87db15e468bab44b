package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;

import java.util.List;
import java.util.Map;

/**
 * Policy {@code global-norm}: PyTorch's {@code clip_grad_norm_}. The total norm (L2 of all
 * gradients, or their max |g| for {@code norm_type: inf}) comes from the pre-clip statistics, so
 * the coefficient is computed on the host and applied with one in-place multiply per gradient.
 */
public final class GlobalNormClip implements ClipPolicy {

    private final double maxNorm;
    private final double normType;

    /**
     * Creates the policy.
     *
     * @param maxNorm the global norm to clip to, &gt; 0
     * @param normType 2 or {@link Double#POSITIVE_INFINITY}
     */
    public GlobalNormClip(double maxNorm, double normType) {
        Settings.requirePositive("max_norm", maxNorm);
        this.maxNorm = maxNorm;
        this.normType = NormType.check(normType);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return "global-norm";
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "clip global " + NormType.name(normType) + " norm to " + Settings.format(maxNorm)
                + " (torch clip_grad_norm_)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of("max_norm", Settings.format(maxNorm), "norm_type", Settings.format(normType));
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        double total = NormType.isInfinity(normType) ? stats.globalMaxAbs() : stats.globalNorm();
        return GlobalNormScaling.clip(gradients, total, stats.globalNorm(), maxNorm);
    }
}
