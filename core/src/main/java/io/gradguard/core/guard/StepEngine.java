package io.gradguard.core.guard;

import ai.djl.ndarray.NDArray;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.detect.Detection;
import io.gradguard.core.detect.DetectorConfig;
import io.gradguard.core.detect.SpikeDetector;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.djl.Scratch;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.recovery.RecoveryStatus;
import io.gradguard.core.recovery.RecoveryVerdict;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What gradguard does around one trainer's {@code Trainer.step()}: measure the gradients, apply
 * the non-finite rule and the clipping policy, feed the detector, then hand one {@link StepReport}
 * to every sink. The engine decides; the sinks record.
 *
 * <p>Called on the trainer's training thread only. Every part runs under a fault budget: a failure
 * is counted in {@code gradguard_agent_errors_total{where}} and the step goes on as DJL would run
 * it.
 */
public final class StepEngine {

    /** Without weight sampling, max |g| still refreshes its gauges this often. */
    private static final int MAX_ABS_EVERY_WITHOUT_SAMPLING = 100;

    private static final Detection NO_DETECTION = new Detection(Double.NaN, false, false);

    private final DjlTrainer trainer;
    private final String model;
    private final StepGradients gradients;
    private final FaultBudget faults;
    // The parts run at every step, each in its own try block (see FaultBudget.Part).
    private final FaultBudget.Part configPart;
    private final FaultBudget.Part statsPart;
    private final FaultBudget.Part detectorPart;
    private final FaultBudget.Part policyPart;
    private final FaultBudget.Part recoveryPart;
    private final FaultBudget.Part lossPart;
    private final FaultBudget.Part[] sinkParts;
    private final Supplier<Optional<GradGuardConfig>> configUpdates;
    private final List<StepSink> sinks;
    private final NonFiniteRule nonFinite = new NonFiniteRule();
    private final LossMeter loss;
    private final UpdateRatios updateRatios = new UpdateRatios();
    private final SpikeDetector detector;
    private final Clipping clipping;
    private final Recovery recovery;

    private GradGuardConfig config;
    /** The configuration's {@code update_ratio_every}, read at every step: a field, not a key lookup. */
    private int updateRatioEvery;

    private long steps;
    private boolean maxAbsSeen;
    private long previousSinkNanos;
    /** The agent's time between steps since the last report (the loss reads, the routing of collectors). */
    private long betweenStepsNanos;

    // Carried from beforeStep to afterStep of the same step.
    private final Scratch scratch;
    private Decided decided;

    /** What beforeStep found and decided. */
    private record Decided(
            long step,
            StepStats stats,
            ClipResult clip,
            StepAction action,
            String skipReason,
            Detection detection,
            RecoveryStatus recovery,
            long nanos) {}

    /**
     * Creates the engine of one trainer.
     *
     * @param trainer the trainer whose steps are guarded
     * @param model the model label of its reports
     * @param config the starting configuration
     * @param configUpdates polled at every step: a new configuration after an accepted reload
     * @param sinks where each step's report goes, in order
     * @param errors where contained failures are counted
     */
    public StepEngine(
            DjlTrainer trainer,
            String model,
            GradGuardConfig config,
            Supplier<Optional<GradGuardConfig>> configUpdates,
            List<StepSink> sinks,
            AgentErrors errors) {
        this.trainer = trainer;
        this.model = model;
        this.gradients = new StepGradients(trainer);
        this.faults = new FaultBudget(errors);
        this.configUpdates = configUpdates;
        this.sinks = List.copyOf(sinks);
        this.configPart = faults.part("config");
        this.statsPart = faults.part("stats");
        this.detectorPart = faults.part("detector");
        this.policyPart = faults.part("policy");
        this.recoveryPart = faults.part("recovery");
        this.lossPart = faults.part("loss");
        this.sinkParts = this.sinks.stream().map(s -> faults.part(s.name())).toArray(FaultBudget.Part[]::new);
        this.config = config;
        this.updateRatioEvery = config.updateRatioEvery();
        this.detector = new SpikeDetector(DetectorConfig.from(config));
        this.clipping = new Clipping(config);
        this.loss = new LossMeter(trainer.manager().newSubManager(), trainer.devices()[0]);
        this.scratch = Scratch.under(trainer.manager());
        this.recovery = Recovery.of(
                config, trainer, model, () -> new Object[] {detector.saveState(), clipping.saveState()}, saved -> {
                    detector.restoreState(((Object[]) saved)[0]);
                    clipping.restoreState(((Object[]) saved)[1]);
                });
    }

    /**
     * Runs at {@code Trainer.step()} entry, before any gradient is applied.
     *
     * @param start {@link System#nanoTime()} when the agent was entered: its own time counts from there
     * @return whether DJL's update runs, or the failure to throw
     */
    public StepOutcome beforeStep(long start) {
        closeScratch(); // a previous step whose afterStep never ran
        long step = steps + 1;
        try {
            if (configPart.enter(step)) {
                pollConfig();
                configPart.succeeded();
            }
        } catch (RuntimeException | LinkageError e) {
            configPart.failed(e);
        }
        int every = updateRatioEvery;
        boolean sampleWeights = every > 0 && step % every == 0;
        // max |g| costs two reductions per parameter: every step only where the policy reads it,
        // otherwise on sampled steps (the non-finite check does not need it).
        boolean withMaxAbs = sampleWeights
                || clipping.needsMaxAbs()
                || !maxAbsSeen
                || (every == 0 && step % MAX_ABS_EVERY_WITHOUT_SAMPLING == 0);
        boolean rewrite = clipping.active();
        StepGradients.Read read = null;
        StepStats measured = null;
        try {
            if (statsPart.enter(step)) {
                read = gradients.read(scratch, rewrite);
                measured = measure(read, sampleWeights || clipping.needsWeightNorms(), withMaxAbs);
                statsPart.succeeded();
            }
        } catch (RuntimeException | LinkageError e) {
            statsPart.failed(e);
        }
        StepStats stats = measured;
        List<ParameterGradient> grads = stats == null ? null : read.gradients();
        if (stats == null) {
            closeScratch();
            decided = new Decided(
                    step, null, null, StepAction.APPLIED, null, NO_DETECTION, null, System.nanoTime() - start);
            return StepOutcome.PROCEED;
        }
        maxAbsSeen |= withMaxAbs;
        Detection observed = NO_DETECTION;
        try {
            if (detectorPart.enter(step)) {
                observed = detector.observe(stats.globalNorm());
                detectorPart.succeeded();
            }
        } catch (RuntimeException | LinkageError e) {
            detectorPart.failed(e);
        }
        Detection detection = observed;
        StepAction action = StepAction.APPLIED;
        ClipResult clip = ClipResult.untouched(stats.globalNorm());
        if (stats.nonFinite()) {
            action = faults.call(
                    "nonfinite",
                    step,
                    () -> nonFinite.decide(config, grads, stats, trainer.gradientsChecked()),
                    StepAction.APPLIED);
            clip = action == StepAction.SKIPPED
                    ? new ClipResult(false, 0.0, 0.0)
                    : new ClipResult(false, 1.0, Double.NaN);
        } else if (rewrite) {
            try {
                if (policyPart.enter(step)) {
                    clip = clipping.clip(grads, stats, scratch);
                    policyPart.succeeded();
                }
            } catch (RuntimeException | LinkageError e) {
                policyPart.failed(e); // the step goes on unclipped
            }
        }
        String skipReason = action == StepAction.SKIPPED ? "nonfinite" : null;
        RecoveryStatus recovered = null;
        RuntimeException failure = null;
        if (recovery != null) {
            boolean healthy = !stats.nonFinite() && !detection.explosion();
            RecoveryVerdict v = null;
            try {
                if (recoveryPart.enter(step)) {
                    v = recovery.beforeUpdate(
                            step,
                            stats.globalNorm(),
                            detection.explosion(),
                            detector.lastBound(),
                            loss.mean(),
                            healthy);
                    recoveryPart.succeeded();
                }
            } catch (RuntimeException | LinkageError e) {
                recoveryPart.failed(e);
            }
            if (v != null) {
                recovered = v.status();
                if (v.skipsUpdate() && action != StepAction.FAILED) {
                    if (action == StepAction.APPLIED) {
                        for (ParameterGradient g : grads) {
                            GradientOps.zeroInPlace(g.gradient()); // or they would add into the next backward
                        }
                    }
                    skipReason = v.action() == RecoveryAction.REWIND
                            ? "rewind"
                            : action == StepAction.SKIPPED ? skipReason : "outlier";
                    action = v.action() == RecoveryAction.FAIL ? StepAction.FAILED : StepAction.SKIPPED;
                    failure = v.action() == RecoveryAction.FAIL
                            ? recovery.exhausted(step, v.status().why())
                            : null;
                }
            }
        }
        if (action == StepAction.APPLIED) {
            nonFinite.applied();
            if (sampleWeights) {
                faults.run("update_ratio", step, () -> updateRatios.snapshot(grads, stats, scratch));
            }
        }
        if (!updateRatios.pending()) {
            closeScratch();
        }
        decided = new Decided(step, stats, clip, action, skipReason, detection, recovered, System.nanoTime() - start);
        return switch (action) {
            case SKIPPED -> StepOutcome.SKIP;
            case FAILED -> StepOutcome.fail(failure != null ? failure : nonFinite.failure(step));
            default -> StepOutcome.PROCEED;
        };
    }

    /**
     * Runs at {@code Trainer.step()} exit (also when the update was skipped or threw).
     *
     * @param djlThrew whether DJL's own update threw
     * @param start {@link System#nanoTime()} when the agent was entered
     */
    public void afterStep(boolean djlThrew, long start) {
        Decided d = decided;
        decided = null;
        if (d == null) {
            return; // attached while a step was running: its entry was never seen
        }
        StepAction action = djlThrew ? StepAction.DJL_THREW : d.action();
        double[] ratios = null;
        if (action == StepAction.APPLIED && updateRatios.pending()) {
            ratios = faults.call("update_ratio", d.step(), () -> updateRatios.compute(scratch), null);
        }
        updateRatios.clear();
        closeScratch();
        double stepLoss = loss.take();
        if (action != StepAction.DJL_THREW) {
            steps = d.step();
        }
        if (d.stats() == null) {
            return; // nothing measured: nothing to report (the failure is counted)
        }
        long nanos = d.nanos() + System.nanoTime() - start + previousSinkNanos + betweenStepsNanos;
        betweenStepsNanos = 0;
        StepReport report = new StepReport(
                model,
                d.step(),
                System.currentTimeMillis(),
                d.stats(),
                d.clip(),
                clipping.description(),
                action,
                action == StepAction.SKIPPED ? d.skipReason() : null,
                d.detection(),
                stepLoss,
                ratios,
                d.recovery(),
                nonFinite.consecutiveSkips(),
                nanos);
        long sinksStart = System.nanoTime();
        for (int i = 0; i < sinkParts.length; i++) {
            try {
                if (sinkParts[i].enter(d.step())) {
                    sinks.get(i).accept(report);
                    sinkParts[i].succeeded();
                }
            } catch (RuntimeException | LinkageError e) {
                sinkParts[i].failed(e);
            }
        }
        // The sinks' time is the agent's too; it is counted in the next step's report.
        previousSinkNanos = System.nanoTime() - sinksStart;
    }

    /**
     * Records a target the job called {@code backward} on.
     *
     * @param target the backward target; only a single-element target is read
     * @param start {@link System#nanoTime()} when the agent was entered
     */
    public void onBackward(NDArray target, long start) {
        try {
            if (lossPart.enter(steps + 1)) {
                loss.add(target);
                lossPart.succeeded();
            }
        } catch (RuntimeException | LinkageError e) {
            lossPart.failed(e);
        }
        chargeSince(start);
    }

    /**
     * Counts the agent's time since {@code start} in the next step's report: a loss read at
     * {@code backward}, or the routing of a call that does nothing else here (a new gradient
     * collector).
     *
     * @param start {@link System#nanoTime()} when the agent was entered
     */
    public void chargeSince(long start) {
        betweenStepsNanos += System.nanoTime() - start;
    }

    /** The statistics, with the step's losses read in the same read. */
    private StepStats measure(StepGradients.Read read, boolean withWeightNorms, boolean withMaxAbs) {
        List<NDArray> losses = loss.pending();
        double[] values = new double[losses.size()];
        StepStats stats = read.plan().compute(read.gradients(), scratch, withWeightNorms, withMaxAbs, losses, values);
        loss.read(values);
        return stats;
    }

    private void pollConfig() {
        Optional<GradGuardConfig> next = configUpdates.get();
        if (next.isPresent()) {
            config = config.withPolicyFrom(next.get());
            updateRatioEvery = config.updateRatioEvery();
            clipping.use(config);
        }
    }

    private void closeScratch() {
        scratch.close();
        updateRatios.clear();
    }
}
