package io.gradguard.core.recorder;

import io.gradguard.core.stats.NormEma;

/**
 * A running band of each parameter's gradient norm, to tell which parameter left its usual range
 * first. The band is kept on the log of the norm (norms spread multiplicatively: a healthy
 * parameter's ln-norm has a spread of about 0.2 to 0.3, whatever its size), by the detector's
 * statistics ({@link NormEma}: its smoothing, its warm-up) and its threshold {@code spike_z}:
 *
 * <ul>
 *   <li>during the warm-up (the first finite norms of a parameter), a norm above {@code 1 +
 *       spike_z} times the geometric mean so far is out of band, as the detector counts a global
 *       norm above that multiple of its mean;
 *   <li>afterwards, a norm whose ln lies above the mean by more than {@code spike_z} spreads, and at
 *       least by ln 2 (twice the usual norm: a parameter whose norm barely varies must not be
 *       named for a few percent).
 * </ul>
 *
 * Only norms in band feed the statistics, so an explosion does not widen its own band; a norm that
 * stays out of band for {@value #NEW_LEVEL_STEPS} finite steps in a row is taken as a new level and
 * the band starts its warm-up again. A band is one-sided: a shrinking gradient blows nothing up.
 * Non-finite norms are out of band and change nothing. Zero norms are in band and change nothing.
 *
 * <p>Per step: one logarithm ({@link FastLog}) and a few comparisons per parameter, no allocation. Made anew
 * (and reallocated) when the trainable set changes. Not thread-safe.
 */
final class NormBands {

    /** Out-of-band finite steps in a row after which a parameter's band starts again. */
    static final int NEW_LEVEL_STEPS = 50;
    /** The narrowest band above the mean, in ln units: twice the usual norm. */
    static final double MIN_WIDTH = Math.log(2);

    private final double spikeZ;
    private final double warmupWidth;
    private final NormEma[] ema;
    private final boolean[] out;
    private final int[] outRun;
    /** The step at which each parameter last left its band (0: never), and what it was then. */
    private final long[] leftAt;

    private final double[] leftNorm;
    private final double[] leftMeanLn;
    private final double[] leftUpperLn;
    /** Each band's last mean and upper bound, in ln units (NaN before a first norm): exp only when reported. */
    private final double[] meanLn;

    private final double[] upperLn;
    private final NormEma fresh;

    NormBands(int parameters, double spikeZ, double alpha, int warmup) {
        this.spikeZ = spikeZ;
        this.warmupWidth = Math.log1p(spikeZ);
        ema = new NormEma[parameters];
        for (int i = 0; i < parameters; i++) {
            ema[i] = new NormEma(alpha, warmup);
        }
        out = new boolean[parameters];
        outRun = new int[parameters];
        leftAt = new long[parameters];
        leftNorm = new double[parameters];
        leftMeanLn = new double[parameters];
        leftUpperLn = new double[parameters];
        meanLn = new double[parameters];
        upperLn = new double[parameters];
        java.util.Arrays.fill(meanLn, Double.NaN);
        java.util.Arrays.fill(upperLn, Double.NaN);
        fresh = new NormEma(alpha, warmup);
    }

    /**
     * Compares one parameter's norm with its band, then feeds the band when it is in.
     *
     * @param i the parameter
     * @param step the step
     * @param norm its gradient norm at the step
     * @return whether the norm is out of band
     */
    boolean observe(int i, long step, double norm) {
        boolean outNow;
        if (!Double.isFinite(norm)) {
            outNow = true;
        } else if (norm <= 0) {
            outNow = false;
        } else {
            double x = FastLog.ln(norm);
            NormEma e = ema[i];
            double mean;
            double width;
            if (e.warmedUp()) {
                mean = e.mean();
                width = Math.max(spikeZ * e.sigma(), MIN_WIDTH);
            } else {
                mean = e.warmupMean(); // NaN before the first norm: nothing to compare with
                width = warmupWidth;
            }
            double bound = mean + width;
            meanLn[i] = mean;
            upperLn[i] = bound;
            outNow = x > bound;
            if (!outNow) {
                feed(e, x);
                outRun[i] = 0;
            } else if (++outRun[i] >= NEW_LEVEL_STEPS) {
                e.set(fresh); // a level held this long is the new normal: warm up again
                outRun[i] = 0;
            }
        }
        if (outNow && !out[i]) {
            leftAt[i] = step;
            leftNorm[i] = norm;
            leftMeanLn[i] = meanLn[i];
            leftUpperLn[i] = upperLn[i];
        }
        out[i] = outNow;
        return outNow;
    }

    private static void feed(NormEma e, double x) {
        if (e.warmedUp()) {
            e.update(x);
        } else {
            e.addWarmup(x);
        }
    }

    int size() {
        return ema.length;
    }

    /** Whether parameter i was out of band at the last step. */
    boolean out(int i) {
        return out[i];
    }

    /** The step at which parameter i last left its band; 0 if never. */
    long leftAt(int i) {
        return leftAt[i];
    }

    /** Its norm when it left. */
    double leftNorm(int i) {
        return leftNorm[i];
    }

    /** Its band's geometric mean when it left, as a norm (NaN when it had no history). */
    double leftTypical(int i) {
        return Math.exp(leftMeanLn[i]);
    }

    /** Its band's upper bound when it left, as a norm (NaN when it had no history). */
    double leftUpper(int i) {
        return Math.exp(leftUpperLn[i]);
    }

    /** The last upper bound of parameter i's band, as a norm (NaN before a first norm). */
    double upper(int i) {
        return Math.exp(upperLn[i]);
    }

    /** The last geometric mean of parameter i's band, as a norm (NaN before a first norm). */
    double typical(int i) {
        return Math.exp(meanLn[i]);
    }
}
