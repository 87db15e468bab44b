package io.gradguard.core.detect;

import io.gradguard.core.config.DetectorConfig;

/**
 * Flags gradient explosions and vanishing streaks from the global norm of each step. It only
 * reads figures; it never changes gradients. Called from the training thread only.
 *
 * <p><b>Explosion.</b> An EMA of the global norm's mean and variance (smoothing {@code alpha}) is
 * seeded by the first {@code warmupSteps} finite norms (their mean and population variance; z is
 * reported as 0 meanwhile). Afterwards {@code z = (g - mean) / (sqrt(var) + 1e-6)} and {@code z >
 * spikeZ} is an explosion. An exploded norm is fed to the EMA clipped ZClip-style, as {@code mean +
 * (spikeZ^2 / z) * sigma}, not as is: fed raw, a single spike would inflate sigma and hide the next
 * one; skipped outright, a lasting change of level (a new learning rate) would be flagged forever.
 * The clipped value is close to the mean for a large spike (so sigma barely moves) and close to
 * {@code mean + spikeZ * sigma} for a marginal one (so a lasting shift is absorbed over a few dozen
 * steps).
 *
 * <p><b>Vanishing.</b> A finite norm below {@code vanishingThreshold} extends the current streak;
 * the step at which the streak reaches {@code vanishingSteps} is one event. The streak then goes
 * on counting without firing again until a norm at or above the threshold ends it, so one long
 * stall is one event, not one per step. Vanishing is counted during warm-up too: a model whose
 * gradients are zero from the start is exactly the case to catch.
 *
 * <p><b>Non-finite norms</b> give {@code z = NaN} and no event, and leave all state (EMA, warm-up,
 * streak) untouched; counting them is the engine's job.
 */
public final class SpikeDetector {

    private static final double EPSILON = 1e-6;

    private final double spikeZ;
    private final double vanishingThreshold;
    private final int vanishingSteps;
    private final double alpha;
    private final double[] warmup;

    private int warmupSeen;
    private double mean = Double.NaN;
    private double variance = Double.NaN;
    private long vanishingStreak;

    /**
     * Creates a detector with empty statistics.
     *
     * @param c the detector settings; a warm-up below 1 is treated as 1 (the z-score needs at
     *     least one norm to exist)
     */
    public SpikeDetector(DetectorConfig c) {
        if (c.vanishingSteps() < 1) {
            throw new IllegalArgumentException("vanishing_steps must be >= 1, got " + c.vanishingSteps());
        }
        if (!(c.alpha() >= 0 && c.alpha() < 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1), got " + c.alpha());
        }
        this.spikeZ = c.spikeZ();
        this.vanishingThreshold = c.vanishingThreshold();
        this.vanishingSteps = c.vanishingSteps();
        this.alpha = c.alpha();
        this.warmup = new double[Math.max(1, c.warmupSteps())];
    }

    /**
     * Feeds one step's pre-clip global norm.
     *
     * @param globalNorm the global L2 norm of the step's gradients
     * @return the z-score and the events this step completed
     */
    public Detection observe(double globalNorm) {
        if (!Double.isFinite(globalNorm)) {
            return new Detection(Double.NaN, false, false);
        }
        boolean vanishing = observeVanishing(globalNorm);
        if (warmupSeen < warmup.length) {
            // Too few norms for a variance, yet a far too high learning rate explodes right here,
            // in the first steps. Until the warm-up ends, sigma is floored at the mean so far: a
            // norm more than (1 + spike_z) times the mean is an explosion, and it enters the
            // warm-up at that bound, as later spikes enter the EMA clipped.
            double z = 0.0;
            boolean explosion = false;
            double kept = globalNorm;
            if (warmupSeen > 0) {
                double sum = 0;
                for (int i = 0; i < warmupSeen; i++) {
                    sum += warmup[i];
                }
                double mean = sum / warmupSeen;
                if (mean > 0) {
                    z = (globalNorm - mean) / mean;
                    explosion = z > spikeZ;
                    kept = explosion ? (1 + spikeZ) * mean : globalNorm;
                }
            }
            warmup[warmupSeen++] = kept;
            if (warmupSeen == warmup.length) {
                seedFromWarmup();
            }
            return new Detection(explosion ? z : 0.0, explosion, vanishing);
        }
        double sigma = Math.sqrt(variance);
        double z = (globalNorm - mean) / (sigma + EPSILON);
        boolean explosion = z > spikeZ;
        updateEma(explosion ? mean + (spikeZ * spikeZ / z) * sigma : globalNorm);
        return new Detection(z, explosion, vanishing);
    }

    private boolean observeVanishing(double globalNorm) {
        if (globalNorm < vanishingThreshold) {
            vanishingStreak++;
            return vanishingStreak == vanishingSteps;
        }
        vanishingStreak = 0;
        return false;
    }

    private void seedFromWarmup() {
        double sum = 0;
        for (double value : warmup) {
            sum += value;
        }
        mean = sum / warmup.length;
        double squares = 0;
        for (double value : warmup) {
            squares += (value - mean) * (value - mean);
        }
        variance = squares / warmup.length;
    }

    private void updateEma(double value) {
        mean = alpha * mean + (1 - alpha) * value;
        variance = alpha * variance + (1 - alpha) * (value - mean) * (value - mean);
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
