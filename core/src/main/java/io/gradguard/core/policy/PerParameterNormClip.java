package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/**
 * Policy {@code per-parameter-norm}: the {@code clip_grad_norm_} rule applied to each parameter on
 * its own ({@code coef = max_norm / (norm + 1e-6)}, scaled only when below 1). Every coefficient
 * comes from the per-parameter statistics, so the post-clip global L2 norm is exact on the host.
 */
public final class PerParameterNormClip implements ClipPolicy {

    /** Registration: reads the same max_norm and norm_type as global-norm. */
    public static final PolicyType TYPE = new PolicyType(
            "per-parameter-norm",
            "the same rule applied to each parameter on its own",
            List.of(GlobalNormClip.MAX_NORM, GlobalNormClip.NORM_TYPE),
            c -> new PerParameterNormClip(c.get(GlobalNormClip.MAX_NORM), c.get(GlobalNormClip.NORM_TYPE)));

    private final double maxNorm;
    private final double normType;

    /**
     * Creates the policy.
     *
     * @param maxNorm the norm each parameter's gradient is clipped to, &gt; 0
     * @param normType 2 or {@link Double#POSITIVE_INFINITY}
     */
    public PerParameterNormClip(double maxNorm, double normType) {
        this.maxNorm = Settings.require(GlobalNormClip.MAX_NORM, maxNorm);
        this.normType = Settings.require(GlobalNormClip.NORM_TYPE, normType);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "clip each parameter's " + GlobalNormScaling.normName(normType) + " gradient norm to "
                + Settings.format(maxNorm);
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of(GlobalNormClip.MAX_NORM, maxNorm, GlobalNormClip.NORM_TYPE, normType);
    }

    /** {@inheritDoc} */
    @Override
    public boolean needsMaxAbs() {
        return GlobalNormScaling.isInfinity(normType);
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        List<ParameterStats> perParameter = Alignment.check(gradients, stats);
        boolean inf = GlobalNormScaling.isInfinity(normType);
        boolean clipped = false;
        double clippedSquares = 0;
        for (int i = 0; i < gradients.size(); i++) {
            ParameterStats parameter = perParameter.get(i);
            double norm = inf ? parameter.gradMaxAbs() : parameter.gradNorm();
            double coefficient = maxNorm / (norm + GlobalNormScaling.EPSILON);
            double l2 = parameter.gradNorm();
            // Non-finite norms are left alone: scaling by 0 or NaN would poison the gradient.
            if (Double.isFinite(norm) && coefficient < 1.0) {
                gradients.get(i).gradient().muli((float) coefficient);
                clipped = true;
                l2 *= coefficient;
            }
            clippedSquares += l2 * l2;
        }
        if (!clipped) {
            return ClipResult.untouched(stats.globalNorm());
        }
        double clippedGlobal = Math.sqrt(clippedSquares);
        double pre = stats.globalNorm();
        return ClipResult.scaled(pre > 0 ? clippedGlobal / pre : 1.0, clippedGlobal);
    }
}
