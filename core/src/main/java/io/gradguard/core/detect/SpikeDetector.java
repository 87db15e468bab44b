package io.gradguard.core.detect;

import io.gradguard.core.stats.NormEma;

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

    private final double spikeZ;
    private final double vanishingThreshold;
    private final int vanishingSteps;
    private final NormEma ema;
    private long vanishingStreak;
    private double lastBound = Double.NaN;

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
        this.spikeZ = c.spikeZ();
        this.vanishingThreshold = c.vanishingThreshold();
        this.vanishingSteps = c.vanishingSteps();
        this.ema = new NormEma(c.alpha(), c.warmupSteps());
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
        lastBound = bound();
        if (!ema.warmedUp()) {
            // Too few norms for a variance, yet a far too high learning rate explodes right here,
            // in the first steps. Until the warm-up ends, sigma is floored at the mean so far: a
            // norm more than (1 + spike_z) times the mean is an explosion, and it enters the
            // warm-up at that bound, as later spikes enter the EMA clipped.
            double z = 0.0;
            boolean explosion = false;
            double kept = globalNorm;
            double mean = ema.warmupMean();
            if (mean > 0) {
                z = (globalNorm - mean) / mean;
                explosion = z > spikeZ;
                kept = explosion ? (1 + spikeZ) * mean : globalNorm;
            }
            ema.addWarmup(kept);
            return new Detection(explosion ? z : 0.0, explosion, vanishing);
        }
        double z = ema.zScore(globalNorm);
        boolean explosion = z > spikeZ;
        ema.update(explosion ? ema.clippedValue(z, spikeZ) : globalNorm);
        return new Detection(z, explosion, vanishing);
    }

    /** The norm above which a step is an explosion, before this step's norm is fed. */
    private double bound() {
        if (!ema.warmedUp()) {
            double mean = ema.warmupMean();
            return mean > 0 ? (1 + spikeZ) * mean : Double.NaN;
        }
        return ema.mean() + spikeZ * (ema.sigma() + 1e-6);
    }

    /**
     * The explosion bound the last {@link #observe} compared with: {@code (1 + spike_z)} times the
     * mean during warm-up, then {@code mean + spike_z * sigma}.
     *
     * @return the bound, or NaN before there was any
     */
    public double lastBound() {
        return lastBound;
    }

    private boolean observeVanishing(double globalNorm) {
        if (globalNorm < vanishingThreshold) {
            vanishingStreak++;
            return vanishingStreak == vanishingSteps;
        }
        vanishingStreak = 0;
        return false;
    }

    /**
     * A copy of the statistics, to put back when the run is rewound.
     *
     * @return the state
     */
    public Object saveState() {
        return new Saved(ema.copy(), vanishingStreak);
    }

    /**
     * Puts back what {@link #saveState()} returned.
     *
     * @param state the saved state
     */
    public void restoreState(Object state) {
        if (state instanceof Saved s) {
            ema.set(s.ema());
            vanishingStreak = s.vanishingStreak();
        }
    }

    private record Saved(NormEma ema, long vanishingStreak) {}

    /** Running mean of the global norm (NaN during warm-up). */
    double mean() {
        return ema.mean();
    }

    /** Running population variance of the global norm (NaN during warm-up). */
    double variance() {
        return ema.variance();
    }
}
