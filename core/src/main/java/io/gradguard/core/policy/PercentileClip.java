package io.gradguard.core.policy;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
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
public final class PercentileClip implements GlobalNormPolicy {

    /** p of the p-th percentile. */
    public static final ConfigKey<Double> PERCENTILE = ConfigKey.of(
                    "policy.percentile",
                    ValueTypes.number(Range.PERCENT, "10"),
                    10.0,
                    "percentile: clip to this percentile of past global norms")
            .in(Part.PROTECTION);
    /** How many past norms are kept. */
    public static final ConfigKey<Integer> HISTORY = ConfigKey.of(
                    "policy.history",
                    ValueTypes.integer(1, 1_000_000, null),
                    1000,
                    "percentile: how many past global norms are kept")
            .in(Part.PROTECTION);

    /** Registration. */
    public static final PolicyType TYPE = new PolicyType(
            "percentile",
            "AutoClip: max_norm = percentile-th percentile of the last history global norms",
            List.of(PERCENTILE, HISTORY),
            c -> new PercentileClip(c.get(PERCENTILE), c.get(HISTORY)));

    private final double percentile;
    private final int historySize;
    private final NormHistory history;

    /**
     * Creates the policy.
     *
     * @param percentile p in (0, 100]
     * @param history how many of the newest global norms are kept, &gt;= 1
     */
    public PercentileClip(double percentile, int history) {
        this.percentile = Settings.require(PERCENTILE, percentile);
        this.historySize = Settings.require(HISTORY, history);
        this.history = new NormHistory(history);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "clip global L2 norm to the " + Settings.format(percentile) + "th percentile of the last " + historySize
                + " norms (AutoClip)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of(PERCENTILE, percentile, HISTORY, historySize);
    }

    /** {@inheritDoc} */
    @Override
    public Object saveState() {
        return history.copy();
    }

    /** {@inheritDoc} */
    @Override
    public void restoreState(Object state) {
        if (state instanceof NormHistory saved) {
            history.set(saved);
        }
    }

    /** {@inheritDoc} */
    @Override
    public double decide(StepStats stats) {
        double norm = stats.globalNorm();
        if (!Double.isFinite(norm)) {
            return 1.0;
        }
        history.add(norm);
        return GlobalNormScaling.coefficient(norm, currentMaxNorm());
    }

    /** The max_norm the last step was clipped to (NaN before the first step). */
    double currentMaxNorm() {
        return history.percentile(percentile);
    }
}
