package io.gradguard.core.guard;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.NonFiniteAction;
import io.gradguard.core.detect.Detection;
import io.gradguard.core.detect.SpikeDetector;
import io.gradguard.core.log.StepLog;
import io.gradguard.core.log.StepRecord;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.policy.ClipPolicy;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.stats.GradientStatistics;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What gradguard does around one {@code Trainer.step()}: measure the gradients, apply the
 * non-finite rule and the clipping policy, feed the detector, record the metrics.
 *
 * <p>Called on the training thread only, once before and once after each step. Every part is
 * fail-open: a failure is counted in {@code gradguard_agent_errors_total{where}} and the step goes
 * on as DJL would run it.
 */
public final class StepGuard {

    private final Trainer trainer;
    private final ParameterAccess access;
    private final GradGuardMetrics metrics;
    private final FaultBudget faults;
    private final Supplier<Optional<GradGuardConfig>> configUpdates;
    private final StepSummary summary;
    private final StepLog stepLog;
    private double lastLoss = Double.NaN;

    private GradGuardConfig config;
    private ClipPolicy policy;
    private SpikeDetector detector;
    private long stepIndex;
    private int consecutiveSkips;

    // State carried from beforeStep to afterStep of the same step.
    private NDManager scratch;
    private List<ParameterGradient> sampled;
    private List<NDArray> weightsBefore;
    private double[] weightNormsBefore;
    /** max |g| per parameter from the last step that measured it, for the gauges. */
    private double[] lastMaxAbs;
    /** Whether the active policy reads max |g| (value clipping, inf-norm clipping). */
    private boolean policyReadsMaxAbs;
    private StepStats lastStats;

    private static final int MAX_ABS_EVERY_WITHOUT_SAMPLING = 100;
    private static final Detection NO_DETECTION = new Detection(Double.NaN, false, false);

    /** A step's gradients and their statistics. */
    private record Measured(List<ParameterGradient> gradients, StepStats stats) {}
    private long spentNanos;

    /**
     * Creates the guard of one trainer.
     *
     * @param trainer the trainer whose steps are guarded
     * @param config the starting configuration
     * @param metrics the model's metrics
     * @param errors where contained failures are counted
     * @param configUpdates polled at every step: a new configuration after an accepted reload
     * @param stepLog where each step's JSON Lines record goes, or null
     */
    public StepGuard(
            Trainer trainer,
            GradGuardConfig config,
            GradGuardMetrics metrics,
            AgentErrors errors,
            Supplier<Optional<GradGuardConfig>> configUpdates,
            StepLog stepLog) {
        this.trainer = trainer;
        this.access = new ParameterAccess(trainer);
        this.metrics = metrics;
        this.faults = new FaultBudget(errors);
        this.configUpdates = configUpdates;
        this.stepLog = stepLog;
        this.summary = new StepSummary(config.summarySeconds());
        this.detector = new SpikeDetector(config.detector());
        applyConfig(config);
    }

    /**
     * Runs at {@code Trainer.step()} entry, before any gradient is applied.
     *
     * @param store the trainer's parameter store
     * @param gradientsChecked DJL's flag: whether its first-step all-zero check already passed
     * @return what the step must do
     */
    public StepDecision beforeStep(ParameterStore store, boolean gradientsChecked) {
        long start = System.nanoTime();
        closeScratch(); // a previous step whose afterStep never ran (an exception in DJL)
        long step = ++stepIndex;
        faults.run("config", step, this::pollConfig);
        scratch = trainer.getManager().newSubManager();
        boolean active = !"none".equals(policy.type());
        boolean sampleWeights = config.updateRatioEvery() > 0 && step % config.updateRatioEvery() == 0;
        // max |g| costs two reductions per parameter: every step only where the policy reads it,
        // otherwise on the weight-sampling steps (the non-finite check does not need it).
        // With update_ratio_every=0 the gauges still get a fresh max |g| now and then.
        boolean withMaxAbs = sampleWeights || policyReadsMaxAbs || lastMaxAbs == null
                || (config.updateRatioEvery() == 0 && step % MAX_ABS_EVERY_WITHOUT_SAMPLING == 0);
        Measured m = faults.call("stats", step, () -> measure(store, active, sampleWeights, withMaxAbs), null);
        StepDecision decision = StepDecision.PROCEED;
        if (m != null) {
            StepStats stats = m.stats();
            lastStats = stats;
            Detection detection = faults.call("detector", step, () -> observe(stats), NO_DETECTION);
            ClipResult result = ClipResult.untouched(stats.globalNorm());
            if (stats.nonFinite()) {
                decision = faults.call("nonfinite", step, () -> onNonFinite(m.gradients(), stats, gradientsChecked), StepDecision.PROCEED);
                result = decision == StepDecision.SKIP
                        ? new ClipResult(false, 0.0, 0.0)
                        : new ClipResult(false, 1.0, Double.NaN);
            } else if (active) {
                result = faults.call("policy", step, () -> clip(m.gradients(), stats), result);
            }
            if (decision == StepDecision.PROCEED) {
                consecutiveSkips = 0;
                if (sampleWeights) {
                    faults.run("update_ratio", step, () -> snapshotWeights(m.gradients(), stats));
                }
            }
            ClipResult applied = result;
            faults.run("metrics", step, () -> recordStep(withLastMaxAbs(stats), applied, detection));
            if (stepLog != null) {
                // written before a FAIL decision throws: the step that stopped the job is logged
                boolean skipped = decision == StepDecision.SKIP;
                faults.run("step_log", step, () -> stepLog.append(new StepRecord(step, System.currentTimeMillis(),
                        lastLoss, stats.globalNorm(), applied.clippedGlobalNorm(), applied.coefficient(), skipped,
                        skipped ? "nonfinite" : null, detection.explosion(), detection.vanishing(), detection.zScore(),
                        StepRecord.topK(stats.parameters(), StepRecord.DEFAULT_TOP))));
            }
        }
        if (sampled == null) {
            closeScratch();
        }
        spentNanos = System.nanoTime() - start;
        return decision;
    }

    /**
     * Runs at {@code Trainer.step()} exit (also when the step was skipped).
     *
     * @param decision what {@link #beforeStep} decided
     */
    public void afterStep(StepDecision decision) {
        long start = System.nanoTime();
        if (decision == StepDecision.PROCEED && sampled != null) {
            faults.run("update_ratio", stepIndex, this::recordUpdateRatios);
        }
        closeScratch();
        long spent = spentNanos + System.nanoTime() - start;
        faults.run("metrics", stepIndex, () -> metrics.recordOverhead(spent));
        faults.run("summary", stepIndex, () -> summary.maybePrint(stepIndex, lastStats));
    }

    /**
     * Records the loss the job just called {@code backward} on.
     *
     * @param loss the backward target; only a single-element target is read
     */
    public void onBackward(NDArray loss) {
        faults.run("loss", stepIndex + 1, () -> recordLoss(loss));
    }

    private void recordLoss(NDArray loss) {
        if (loss.size() == 1) {
            double value;
            if (loss.getDataType() == ai.djl.ndarray.types.DataType.FLOAT32) {
                value = loss.getFloat();
            } else {
                try (NDArray wide = loss.toType(ai.djl.ndarray.types.DataType.FLOAT64, true)) {
                    value = wide.getDouble();
                }
            }
            metrics.recordLoss(value);
            lastLoss = value;
            summary.loss(value);
        }
    }

    /**
     * The policy that acts now (it may change on a reload).
     *
     * @return the active policy
     */
    public ClipPolicy policy() {
        return policy;
    }

    private Measured measure(
            ParameterStore store, boolean reduceInPlace, boolean sampleWeights, boolean withMaxAbs) {
        List<ParameterGradient> grads = access.gradients(store, scratch, reduceInPlace);
        return new Measured(grads, GradientStatistics.compute(grads, scratch, sampleWeights, withMaxAbs));
    }

    private Detection observe(StepStats stats) {
        Detection d = detector.observe(stats.globalNorm());
        if (d.explosion()) {
            metrics.recordSpike(true);
            summary.spike();
        }
        if (d.vanishing()) {
            metrics.recordSpike(false);
        }
        return d;
    }

    /**
     * The gauges show max |g| from the last step that measured it (every update_ratio_every steps,
     * or every step for policies that read it) rather than NaN on the steps in between.
     */
    private StepStats withLastMaxAbs(StepStats stats) {
        List<ParameterStats> parameters = stats.parameters();
        if (!Double.isNaN(stats.globalMaxAbs()) || stats.nonFinite()) {
            double[] measured = new double[parameters.size()];
            for (int i = 0; i < measured.length; i++) {
                measured[i] = parameters.get(i).gradMaxAbs();
            }
            lastMaxAbs = measured;
            return stats;
        }
        if (lastMaxAbs == null || lastMaxAbs.length != parameters.size()) {
            return stats;
        }
        List<ParameterStats> carried = new ArrayList<>(parameters.size());
        double global = 0;
        for (int i = 0; i < lastMaxAbs.length; i++) {
            ParameterStats p = parameters.get(i);
            carried.add(new ParameterStats(p.name(), p.gradNorm(), lastMaxAbs[i], p.nonFinite(), p.weightNorm()));
            global = Math.max(global, lastMaxAbs[i]);
        }
        return new StepStats(carried, stats.globalNorm(), global, stats.nonFinite());
    }

    private void recordStep(StepStats stats, ClipResult result, Detection detection) {
        String clippedBy = null;
        if (result.clipped()) {
            clippedBy = policy.type();
            summary.clipped();
        }
        metrics.recordStep(stats, result.clippedGlobalNorm(), result.coefficient(), clippedBy, detection.zScore());
    }

    private ClipResult clip(List<ParameterGradient> grads, StepStats stats) {
        ClipResult result = policy.apply(grads, stats);
        if (Double.isNaN(result.clippedGlobalNorm())) {
            // Element-wise policies (value, AGC) cannot know the new norm without reading it back.
            double after = GradientStatistics.globalNorm(grads, scratch);
            double before = stats.globalNorm();
            boolean clipped = after < before;
            return new ClipResult(clipped, before > 0 ? after / before : 1.0, after);
        }
        return result;
    }

    private StepDecision onNonFinite(List<ParameterGradient> grads, StepStats stats, boolean gradientsChecked) {
        NonFiniteAction action = config.onNonfinite();
        switch (action) {
            case NONE:
                return StepDecision.PROCEED;
            case FAIL:
                return StepDecision.FAIL;
            case ZERO:
                boolean allZeroed = true;
                for (int i = 0; i < grads.size(); i++) {
                    if (stats.parameters().get(i).nonFinite()) {
                        GradientOps.zeroInPlace(grads.get(i).gradient());
                    } else {
                        allZeroed = false;
                    }
                }
                // DJL's first step refuses all-zero gradients with an exception: skip instead.
                if (!(allZeroed && !gradientsChecked)) {
                    return StepDecision.PROCEED;
                }
                break;
            case SKIP:
            default:
                // The update must not run at all: Adam's moments would still move the weights on
                // zero gradients. Clear them too, or they would add into the next backward.
                for (ParameterGradient g : grads) {
                    GradientOps.zeroInPlace(g.gradient());
                }
                break;
        }
        metrics.recordSkipped("nonfinite");
        consecutiveSkips++;
        summary.skipped();
        int limit = config.maxConsecutiveSkips();
        if (limit > 0 && consecutiveSkips == limit) {
            System.err.println(
                    "[gradguard] WARNING: "
                            + limit
                            + " optimizer steps in a row skipped for non-finite gradients (max_consecutive_skips); "
                            + (config.failOnMaxSkips()
                                    ? "failing the job (fail_on_max_skips=true)"
                                    : "training is not progressing: lower the learning rate or add a clipping policy"));
            if (config.failOnMaxSkips()) {
                return StepDecision.FAIL;
            }
        }
        return StepDecision.SKIP;
    }

    /**
     * The exception to throw into the job after {@link StepDecision#FAIL}.
     *
     * @return a one-line exception naming the step and the fix
     */
    public RuntimeException failure() {
        return new NonFiniteGradientException(
                "gradguard: non-finite gradients at step "
                        + stepIndex
                        + (consecutiveSkips > 0 ? " (" + consecutiveSkips + " skipped in a row)" : "")
                        + " and on_nonfinite=fail or fail_on_max_skips=true; lower the learning rate, add a"
                        + " clipping policy, or set on_nonfinite=skip");
    }

    private void snapshotWeights(List<ParameterGradient> grads, StepStats stats) {
        NDList copies = new NDList(grads.size());
        double[] norms = new double[grads.size()];
        for (int i = 0; i < norms.length; i++) {
            norms[i] = stats.parameters().get(i).weightNorm();
        }
        weightNormsBefore = norms;
        for (ParameterGradient g : grads) {
            NDArray copy = g.weight().duplicate();
            copy.attach(scratch);
            copies.add(copy);
        }
        sampled = grads;
        weightsBefore = copies;
    }

    private void recordUpdateRatios() {
        // ||w|| before the update is already in the step's statistics: only ||Δw|| is measured.
        NDList scalars = new NDList(sampled.size());
        for (int i = 0; i < sampled.size(); i++) {
            NDArray delta = sampled.get(i).weight().sub(weightsBefore.get(i));
            delta.attach(scratch);
            NDArray deltaNorm = delta.norm();
            deltaNorm.attach(scratch);
            scalars.add(deltaNorm);
        }
        NDArray stacked = NDArrays.stack(scalars);
        stacked.attach(scratch);
        NDArray wide = stacked.toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
        wide.attach(scratch);
        float[] v = wide.toFloatArray();
        for (int i = 0; i < sampled.size(); i++) {
            double w = weightNormsBefore[i];
            metrics.recordUpdateRatio(sampled.get(i).name(), w > 0 ? v[i] / w : Double.NaN);
        }
    }

    private void pollConfig() {
        configUpdates.get().ifPresent(next -> applyConfig(config.withPolicy(next.policy())));
    }

    private void applyConfig(GradGuardConfig next) {
        ClipPolicy nextPolicy = ClipPolicies.create(next.policy());
        config = next;
        policy = nextPolicy;
        policyReadsMaxAbs = "value".equals(nextPolicy.type()) || "inf".equals(nextPolicy.settings().get("norm_type"));
        StringBuilder settings = new StringBuilder();
        policy.settings().forEach((k, v) -> settings.append(settings.length() == 0 ? "" : ",").append(k).append('=').append(v));
        metrics.setPolicyInfo(
                policy.type(), settings.toString(), policy.description(), next.onNonfinite().name().toLowerCase(java.util.Locale.ROOT));
    }

    private void closeScratch() {
        if (scratch != null) {
            scratch.close();
            scratch = null;
        }
        sampled = null;
        weightsBefore = null;
        weightNormsBefore = null;
    }
}
