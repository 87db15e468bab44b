package io.gradguard.core.stats;

/**
 * A running mean and variance of a norm: seeded by the mean and population variance of the first
 * {@code warmup} values, then an exponential moving average (smoothing {@code alpha}; the mean is
 * updated first, then the variance with the new mean), as in ZClip's reference implementation.
 * The z-score is {@code (x - mean) / (sigma + 1e-6)}.
 *
 * <p>Shared by the spike detector and the zscore policy so that both read the same statistics the
 * same way. Not thread-safe: one training thread feeds it.
 */
public final class NormEma {

    private static final double EPSILON = 1e-6;

    private final double alpha;
    private final double[] warmup;
    private int warmupSeen;
    private double mean = Double.NaN;
    private double variance = Double.NaN;

    /**
     * Creates empty statistics.
     *
     * @param alpha EMA smoothing factor in [0, 1)
     * @param warmup values that seed the statistics, at least 1
     */
    public NormEma(double alpha, int warmup) {
        if (!(alpha >= 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1), got " + alpha);
        }
        this.alpha = alpha;
        this.warmup = new double[Math.max(1, warmup)];
    }

    /**
     * A copy of these statistics, to put back when the run is rewound.
     *
     * @return an independent copy
     */
    public NormEma copy() {
        NormEma c = new NormEma(alpha, warmup.length);
        c.set(this);
        return c;
    }

    /**
     * Takes another's statistics (of the same alpha and warm-up).
     *
     * @param other what {@link #copy()} returned
     */
    public void set(NormEma other) {
        System.arraycopy(other.warmup, 0, warmup, 0, Math.min(warmup.length, other.warmup.length));
        warmupSeen = other.warmupSeen;
        mean = other.mean;
        variance = other.variance;
    }

    /** @return whether the warm-up is over and {@link #zScore} is defined */
    public boolean warmedUp() {
        return warmupSeen == warmup.length;
    }

    /** @return how many warm-up values were seen so far */
    public int warmupSeen() {
        return warmupSeen;
    }

    /** @return the mean of the warm-up values seen so far (NaN before the first) */
    public double warmupMean() {
        if (warmupSeen == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < warmupSeen; i++) {
            sum += warmup[i];
        }
        return sum / warmupSeen;
    }

    /**
     * Adds a warm-up value; the last one seeds the mean and variance.
     *
     * @param value a finite norm
     */
    public void addWarmup(double value) {
        warmup[warmupSeen++] = value;
        if (warmupSeen == warmup.length) {
            mean = warmupMean();
            double squares = 0;
            for (double v : warmup) {
                squares += (v - mean) * (v - mean);
            }
            variance = squares / warmup.length;
        }
    }

    /**
     * The z-score of a value against the statistics (after the warm-up).
     *
     * @param value a norm
     * @return {@code (value - mean) / (sigma + 1e-6)}
     */
    public double zScore(double value) {
        return (value - mean) / (sigma() + EPSILON);
    }

    /**
     * ZClip's adaptive bound for a value with z-score {@code z > threshold}: {@code mean +
     * (threshold^2 / z) * sigma}, close to the mean for a large spike and to {@code mean + threshold
     * * sigma} for a marginal one.
     *
     * @param z the value's z-score
     * @param threshold the z above which values are clipped
     * @return the bound
     */
    public double clippedValue(double z, double threshold) {
        return mean + (threshold * threshold / z) * sigma();
    }

    /**
     * Moves the statistics towards a value: mean first, then the variance with the new mean.
     *
     * @param value the value fed (the clipped one, for a spike)
     */
    public void update(double value) {
        mean = alpha * mean + (1 - alpha) * value;
        variance = alpha * variance + (1 - alpha) * (value - mean) * (value - mean);
    }

    /** @return the running mean (NaN during warm-up) */
    public double mean() {
        return mean;
    }

    /** @return the running population variance (NaN during warm-up) */
    public double variance() {
        return variance;
    }

    /** @return the running standard deviation (NaN during warm-up) */
    public double sigma() {
        return Math.sqrt(variance);
    }
}
