package io.gradguard.core.recorder;

import io.gradguard.core.detect.Detection;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import java.util.ArrayList;
import java.util.List;

/**
 * Step reports made from given norms, for the parts of the recorder that do not need a training
 * job to be exercised (the writer's files, the cost of recording): the names are fixed String
 * instances, as the engine's are for one trainable set.
 */
final class Reports {

    static final PolicyDescription NONE = new PolicyDescription("none", "", "no clipping", "skip");

    private final List<String> names = new ArrayList<>();

    Reports(int parameters) {
        for (int i = 0; i < parameters; i++) {
            names.add(String.format("%02dLinear_weight", i));
        }
    }

    List<String> names() {
        return names;
    }

    /** A step whose parameters have these norms; NaN norms make it a skipped non-finite step. */
    StepReport step(long step, double[] norms, boolean explosion) {
        List<ParameterStats> ps = new ArrayList<>(norms.length);
        double squares = 0;
        boolean nonFinite = false;
        for (int i = 0; i < norms.length; i++) {
            boolean bad = !Double.isFinite(norms[i]);
            nonFinite |= bad;
            ps.add(new ParameterStats(names.get(i), norms[i], bad ? norms[i] : Double.NaN, bad, Double.NaN));
            squares += norms[i] * norms[i];
        }
        double global = nonFinite ? Double.NaN : Math.sqrt(squares);
        StepStats stats = new StepStats(ps, global, Double.NaN, nonFinite);
        return new StepReport(
                "synthetic",
                step,
                1_700_000_000_000L + step,
                stats,
                nonFinite ? new ClipResult(false, 0.0, 0.0) : ClipResult.untouched(global),
                NONE,
                nonFinite ? StepAction.SKIPPED : StepAction.APPLIED,
                nonFinite ? "nonfinite" : null,
                new Detection(nonFinite ? Double.NaN : explosion ? 9.0 : 0.5, explosion, false),
                1.0,
                null,
                null,
                nonFinite ? 1 : 0,
                1000);
    }

    /** Healthy norms around 1 with a little spread, seeded by the step. */
    static double[] healthy(int parameters, long step) {
        java.util.Random r = new java.util.Random(step);
        double[] n = new double[parameters];
        for (int i = 0; i < parameters; i++) {
            n[i] = Math.exp(0.2 * r.nextGaussian());
        }
        return n;
    }
}
