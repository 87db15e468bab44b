package io.gradguard.core.policy;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
import io.gradguard.core.stats.NormEma;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/**
 * Policy {@code zscore}: ZClip (Kumar et al. 2025), z-score mode with adaptive scaling, following
 * the reference implementation (bluorion-com/ZClip).
 *
 * <p>The first {@code warmup_steps} global norms pass unclipped and seed the mean and the
 * population variance. Afterwards {@code z = (g - mu) / (sigma + 1e-6)}; when {@code z >
 * z_threshold} the norm is clipped to {@code mu + (z_threshold^2 / z) * sigma}. The EMA is then
 * updated, mean first and variance with the new mean, with that threshold (or with g when nothing
 * was clipped). The optional {@code max_norm} caps the norm further, warm-up included, but, as in
 * the reference, never feeds the EMA: the EMA describes the gradients, not the cap.
 *
 * <p>Non-finite norms neither enter the warm-up nor the EMA, so one NaN step cannot poison the
 * statistics for the rest of the run.
 */
public final class ZScoreClip implements GlobalNormPolicy {

    /** z above which the norm is clipped. */
    public static final ConfigKey<Double> Z_THRESHOLD = ConfigKey.of(
                    "policy.z_threshold",
                    ValueTypes.number(Range.POSITIVE, null),
                    2.5,
                    "zscore: z above which the norm is clipped")
            .in(Part.PROTECTION);
    /** EMA smoothing. */
    public static final ConfigKey<Double> ALPHA = ConfigKey.of(
                    "policy.alpha", ValueTypes.number(Range.OPEN_UNIT, "0.97"), 0.97, "zscore: EMA smoothing factor")
            .in(Part.PROTECTION);
    /** Warm-up length. */
    public static final ConfigKey<Integer> WARMUP_STEPS = ConfigKey.of(
                    "policy.warmup_steps",
                    ValueTypes.integer(1, Integer.MAX_VALUE, null),
                    25,
                    "zscore: first steps pass unclipped and seed the mean and variance")
            .in(Part.PROTECTION);

    /** Registration; max_norm is a cap only when set. */
    public static final PolicyType TYPE = new PolicyType(
            "zscore",
            "ZClip: clip norms whose z-score against an EMA exceeds z_threshold",
            List.of(Z_THRESHOLD, ALPHA, WARMUP_STEPS, GlobalNormClip.MAX_NORM),
            c -> new ZScoreClip(
                    c.get(Z_THRESHOLD),
                    c.get(ALPHA),
                    c.get(WARMUP_STEPS),
                    c.isSet(GlobalNormClip.MAX_NORM) ? c.get(GlobalNormClip.MAX_NORM) : Double.NaN));

    private final double zThreshold;
    private final double alpha;
    private final int warmupSteps;
    private final double maxNorm;

    private final NormEma ema;
    private final double warmupFactor;

    /**
     * Creates the policy.
     *
     * @param zThreshold z above which the norm is clipped, &gt; 0 (default 2.5)
     * @param alpha EMA smoothing factor in (0, 1) (default 0.97)
     * @param warmupSteps norms that seed the statistics, &gt;= 1 (default 25)
     * @param maxNorm an extra cap on the global norm, or NaN for none
     */
    public ZScoreClip(double zThreshold, double alpha, int warmupSteps, double maxNorm) {
        this(zThreshold, alpha, warmupSteps, maxNorm, Double.NaN);
    }

    /**
     * With {@code warmupFactor}, a warm-up norm above that many times the mean of the norms so far
     * is clipped to that bound and seeds the statistics at it: the start the auto policy needs,
     * where an explosion at step 2 has no history to be measured against.
     */
    ZScoreClip(double zThreshold, double alpha, int warmupSteps, double maxNorm, double warmupFactor) {
        this.warmupFactor = warmupFactor;
        this.zThreshold = Settings.require(Z_THRESHOLD, zThreshold);
        this.alpha = Settings.require(ALPHA, alpha);
        // The z-score needs a mean and a variance to exist: at least one norm must seed them.
        this.warmupSteps = Settings.require(WARMUP_STEPS, warmupSteps);
        this.maxNorm = Double.isNaN(maxNorm) ? maxNorm : Settings.require(GlobalNormClip.MAX_NORM, maxNorm);
        this.ema = new NormEma(this.alpha, this.warmupSteps);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        String cap = Double.isNaN(maxNorm) ? "" : ", capped at " + Settings.format(maxNorm);
        return "clip global L2 norm at z > " + Settings.format(zThreshold) + " over an EMA (alpha "
                + Settings.format(alpha) + ", warm-up " + warmupSteps + ")" + cap + " (ZClip)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of(
                Z_THRESHOLD, zThreshold, ALPHA, alpha, WARMUP_STEPS, warmupSteps, GlobalNormClip.MAX_NORM, maxNorm);
    }

    /** {@inheritDoc} */
    @Override
    public Object saveState() {
        return ema.copy();
    }

    /** {@inheritDoc} */
    @Override
    public void restoreState(Object state) {
        if (state instanceof NormEma saved) {
            ema.set(saved);
        }
    }

    /** {@inheritDoc} */
    @Override
    public double decide(StepStats stats) {
        return decide(stats.globalNorm());
    }

    /** {@link #decide(StepStats)} on a global norm alone. */
    double decide(double norm) {
        if (!Double.isFinite(norm)) {
            return 1.0;
        }
        if (!ema.warmedUp()) {
            double bound = warmupFactor * ema.warmupMean(); // NaN without a factor or a history
            ema.addWarmup(Double.isNaN(bound) ? norm : Math.min(norm, bound));
            double cap = min(bound, maxNorm);
            return Double.isNaN(cap) ? 1.0 : GlobalNormScaling.coefficient(norm, cap);
        }
        double z = ema.zScore(norm);
        double threshold = z > zThreshold ? ema.clippedValue(z, zThreshold) : Double.NaN;
        ema.update(Double.isNaN(threshold) ? norm : threshold);
        double effective = Double.isNaN(threshold) ? maxNorm : min(threshold, maxNorm);
        return Double.isNaN(effective) ? 1.0 : GlobalNormScaling.coefficient(norm, effective);
    }

    /** The smaller of two limits, where NaN means "no limit". */
    private static double min(double limit, double cap) {
        return Double.isNaN(cap) ? limit : Double.isNaN(limit) ? cap : Math.min(limit, cap);
    }

    /** Running mean of the global norm (NaN during warm-up). */
    double mean() {
        return ema.mean();
    }

    /** Running population variance of the global norm (NaN during warm-up). */
    double variance() {
        return ema.variance();
    }
}
