package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/**
 * Policy {@code auto}: the clipping rung of the recovery ladder, for a user who does not know what
 * will go wrong, with no setting of its own. It also turns on the rest of the ladder (learning-rate
 * backoff, rewinds; see {@code recovery.*}).
 *
 * <p>ZClip's rule needs a history, and an explosion at step 2 has none: so while the statistics are
 * seeded (the first 25 finite norms), a norm above {@value #WARMUP_FACTOR} times the mean of the
 * norms so far is clipped to that bound. Afterwards it clips at the detector's own threshold, z
 * above {@value #Z_THRESHOLD}: a healthy run is not clipped at all (its spikes stay well inside),
 * what the detector calls an explosion is. The first step passes: there is nothing to compare it
 * with.
 */
public final class AutoClip implements GlobalNormPolicy {

    /** During the warm-up, the bound as a multiple of the mean norm so far. */
    static final double WARMUP_FACTOR = 3.0;
    /** The z-score above which a norm is clipped: the spike detector's default. */
    static final double Z_THRESHOLD = 6.0;

    /** Registration. */
    public static final PolicyType TYPE = new PolicyType(
            "auto",
            "no settings: adaptive clipping safe from the first step, plus the recovery ladder (recovery.*)",
            List.of(),
            c -> new AutoClip());

    private final ZScoreClip rule = new ZScoreClip(Z_THRESHOLD, 0.97, 25, Double.NaN, WARMUP_FACTOR);
    private boolean started;

    /** Creates the policy. */
    public AutoClip() {}

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "adaptive: " + Settings.format(WARMUP_FACTOR) + "x the mean norm while warming up, then ZClip at z > "
                + Settings.format(Z_THRESHOLD) + "; with the recovery ladder";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Map.of();
    }

    /** {@inheritDoc} */
    @Override
    public Object saveState() {
        return new Object[] {rule.saveState(), started};
    }

    /** {@inheritDoc} */
    @Override
    public void restoreState(Object state) {
        if (state instanceof Object[] saved && saved.length == 2 && saved[1] instanceof Boolean s) {
            rule.restoreState(saved[0]);
            started = s;
        }
    }

    /** Until the first step is decided: that step's weight norms are what it is compared with. */
    @Override
    public boolean needsWeightNorms() {
        return !started;
    }

    /** {@inheritDoc} */
    @Override
    public double decide(StepStats stats) {
        double norm = stats.globalNorm();
        if (started || !Double.isFinite(norm)) {
            return rule.decide(stats);
        }
        started = true;
        // The first step has no past norm to compare with. A gradient whose norm exceeds that of
        // the weights it updates is no start of a healthy run (at initialisation healthy ones are
        // a small fraction of it): it is clipped to the weights' norm, and the warm-up starts from
        // that bound instead of from the explosion.
        double weights = weightNorm(stats);
        if (!(norm > weights)) {
            return rule.decide(norm);
        }
        rule.decide(weights);
        return GlobalNormScaling.coefficient(norm, weights);
    }

    /** The L2 norm of all weights, or NaN when a parameter's was not measured at this step. */
    private static double weightNorm(StepStats stats) {
        double sum = 0;
        for (ParameterStats p : stats.parameters()) {
            sum += p.weightNorm() * p.weightNorm();
        }
        return Math.sqrt(sum);
    }
}
