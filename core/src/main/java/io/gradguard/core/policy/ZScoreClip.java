package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
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
public final class ZScoreClip implements ClipPolicy {

    private static final double EPSILON = 1e-6;

    private final double zThreshold;
    private final double alpha;
    private final int warmupSteps;
    private final double maxNorm;

    private final double[] warmup;
    private int warmupSeen;
    private double mean = Double.NaN;
    private double variance = Double.NaN;

    /**
     * Creates the policy.
     *
     * @param zThreshold z above which the norm is clipped, &gt; 0 (default 2.5)
     * @param alpha EMA smoothing factor in [0, 1) (default 0.97)
     * @param warmupSteps norms that seed the statistics, &gt;= 1 (default 25)
     * @param maxNorm an extra cap on the global norm, or NaN for none
     */
    public ZScoreClip(double zThreshold, double alpha, int warmupSteps, double maxNorm) {
        Settings.requirePositive("z_threshold", zThreshold);
        if (!(alpha >= 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1), got " + alpha);
        }
        if (warmupSteps < 1) {
            // The z-score needs a mean and a variance to exist: at least one norm must seed them.
            throw new IllegalArgumentException("warmup_steps must be >= 1, got " + warmupSteps);
        }
        if (!Double.isNaN(maxNorm)) {
            Settings.requirePositive("max_norm", maxNorm);
        }
        this.zThreshold = zThreshold;
        this.alpha = alpha;
        this.warmupSteps = warmupSteps;
        this.maxNorm = maxNorm;
        this.warmup = new double[warmupSteps];
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return "zscore";
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
                "z_threshold", Settings.format(zThreshold),
                "alpha", Settings.format(alpha),
                "warmup_steps", Integer.toString(warmupSteps),
                "max_norm", Settings.format(maxNorm));
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        double norm = stats.globalNorm();
        if (!Double.isFinite(norm)) {
            return ClipResult.untouched(norm);
        }
        if (warmupSeen < warmupSteps) {
            warmup[warmupSeen++] = norm;
            if (warmupSeen == warmupSteps) {
                seedFromWarmup();
            }
            return capOnly(gradients, norm);
        }
        double sigma = Math.sqrt(variance);
        double z = (norm - mean) / (sigma + EPSILON);
        double threshold = Double.NaN;
        if (z > zThreshold) {
            threshold = mean + (zThreshold * zThreshold / z) * sigma;
        }
        updateEma(Double.isNaN(threshold) ? norm : threshold);
        double effective = Double.isNaN(threshold) ? maxNorm : min(threshold, maxNorm);
        if (Double.isNaN(effective)) {
            return ClipResult.untouched(norm);
        }
        return GlobalNormScaling.clip(gradients, norm, norm, effective);
    }

    private ClipResult capOnly(List<ParameterGradient> gradients, double norm) {
        return Double.isNaN(maxNorm)
                ? ClipResult.untouched(norm)
                : GlobalNormScaling.clip(gradients, norm, norm, maxNorm);
    }

    private void seedFromWarmup() {
        double sum = 0;
        for (double value : warmup) {
            sum += value;
        }
        mean = sum / warmupSteps;
        double squares = 0;
        for (double value : warmup) {
            squares += (value - mean) * (value - mean);
        }
        variance = squares / warmupSteps;
    }

    private void updateEma(double value) {
        mean = alpha * mean + (1 - alpha) * value;
        variance = alpha * variance + (1 - alpha) * (value - mean) * (value - mean);
    }

    /** The smaller of two limits, where NaN means "no limit". */
    private static double min(double limit, double cap) {
        return Double.isNaN(cap) ? limit : Math.min(limit, cap);
    }

    /** Running mean of the global norm (NaN during warm-up). */
    double mean() {
        return mean;
    }

    /** Running population variance of the global norm (NaN during warm-up). */
    double variance() {
        return variance;
    }
}
