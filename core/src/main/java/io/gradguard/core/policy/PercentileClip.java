package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;

import java.util.List;
import java.util.Map;

/**
 * Policy {@code percentile}: AutoClip (Seetharaman et al. 2020). Each step appends the observed
 * (pre-clip) global L2 norm to the history, takes its p-th percentile (numpy 'linear') as max_norm
 * and clips like {@code clip_grad_norm_}.
 *
 * <p>Unlike the reference code, whose history grows without bound, only the newest {@code
 * history} norms are kept, so memory stays bounded and the threshold follows the run. Non-finite
 * norms are not recorded: one NaN would make every later percentile NaN.
 */
public final class PercentileClip implements ClipPolicy {

    private final double percentile;
    private final int historySize;
    private final NormHistory history;

    /**
     * Creates the policy.
     *
     * @param percentile p in [0, 100]
     * @param history how many of the newest global norms are kept, &gt;= 1
     */
    public PercentileClip(double percentile, int history) {
        if (!(percentile >= 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + percentile);
        }
        this.percentile = percentile;
        this.historySize = history;
        this.history = new NormHistory(history);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return "percentile";
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "clip global L2 norm to the " + Settings.format(percentile) + "th percentile of the last "
                + historySize + " norms (AutoClip)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of(
                "percentile", Settings.format(percentile), "history", Integer.toString(historySize));
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        double norm = stats.globalNorm();
        if (!Double.isFinite(norm)) {
            return ClipResult.untouched(norm);
        }
        history.add(norm);
        return GlobalNormScaling.clip(gradients, norm, norm, currentMaxNorm());
    }

    /** The max_norm the last step was clipped to (NaN before the first step). */
    double currentMaxNorm() {
        return history.percentile(percentile);
    }
}
