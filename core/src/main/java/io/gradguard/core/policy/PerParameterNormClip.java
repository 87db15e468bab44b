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

    private final double maxNorm;
    private final double normType;

    /**
     * Creates the policy.
     *
     * @param maxNorm the norm each parameter's gradient is clipped to, &gt; 0
     * @param normType 2 or {@link Double#POSITIVE_INFINITY}
     */
    public PerParameterNormClip(double maxNorm, double normType) {
        Settings.requirePositive("max_norm", maxNorm);
        this.maxNorm = maxNorm;
        this.normType = NormType.check(normType);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return "per-parameter-norm";
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "clip each parameter's " + NormType.name(normType) + " gradient norm to "
                + Settings.format(maxNorm);
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of("max_norm", Settings.format(maxNorm), "norm_type", Settings.format(normType));
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        List<ParameterStats> perParameter = Alignment.check(gradients, stats);
        boolean inf = NormType.isInfinity(normType);
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
        return new ClipResult(true, pre > 0 ? clippedGlobal / pre : 1.0, clippedGlobal);
    }
}
