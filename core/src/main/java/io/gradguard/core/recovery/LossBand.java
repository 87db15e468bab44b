package io.gradguard.core.recovery;

import io.gradguard.core.stats.NormEma;

/**
 * The band of a healthy loss: a running mean and spread of log loss, fed by healthy steps only, so
 * that a loss far above it marks a bad step.
 */
final class LossBand {

    /** A loss this many band sigmas above the band's mean (in log space) is far outside it. */
    static final double FAR_Z = 6.0;
    /** While the band warms up: a loss this many times the mean loss so far is far outside it. */
    static final double FAR_FACTOR = 10.0;

    private final NormEma band = new NormEma(0.97, 25);

    boolean farAbove(double loss) {
        if (!(Double.isFinite(loss) && loss > 0)) {
            return false;
        }
        if (!band.warmedUp()) {
            double mean = band.warmupMean();
            return band.warmupSeen() > 0 && loss > FAR_FACTOR * Math.exp(mean);
        }
        return band.zScore(Math.log(loss)) > FAR_Z;
    }

    void feed(double loss) {
        double log = Math.log(loss);
        if (band.warmedUp()) {
            band.update(log);
        } else {
            band.addWarmup(log);
        }
    }

    boolean warmedUp() {
        return band.warmedUp();
    }

    /** The band's mean, in log space. */
    double mean() {
        return band.mean();
    }
}
