package io.gradguard.core.guard;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.console.Console;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.djl.OptimizerControl;
import io.gradguard.core.djl.Overwrite;
import io.gradguard.core.djl.TrainableParameter;
import io.gradguard.core.djl.UnsupportedDjlException;
import io.gradguard.core.policy.AutoClip;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.recovery.RecoveryLadder;
import io.gradguard.core.recovery.RecoveryVerdict;
import java.util.ArrayList;
import java.util.List;

/**
 * Carries out the recovery ladder's verdicts on one trainer: the learning-rate factor on its
 * optimizer, and snapshots of its weights and optimizer state, restored on a rewind.
 */
final class Recovery implements AutoCloseable {

    private final DjlTrainer trainer;
    private final RecoveryLadder ladder;
    private final OptimizerControl optimizer;
    private NDManager snapshotArrays;
    private List<NDArray> liveWeights = List.of();
    private List<NDArray> savedWeights = List.of();
    private OptimizerControl.State savedOptimizer;
    private double appliedScale = 1.0;
    private final java.util.function.Supplier<Object> saveEngineState;
    private final java.util.function.Consumer<Object> restoreEngineState;
    private Object savedEngineState;

    private Recovery(
            DjlTrainer trainer,
            RecoveryLadder ladder,
            OptimizerControl optimizer,
            java.util.function.Supplier<Object> saveEngineState,
            java.util.function.Consumer<Object> restoreEngineState) {
        this.saveEngineState = saveEngineState;
        this.restoreEngineState = restoreEngineState;
        this.trainer = trainer;
        this.ladder = ladder;
        this.optimizer = optimizer;
    }

    /**
     * The recovery of a trainer, or null when no rung is on.
     *
     * @param saveEngineState a copy of what the engine learned (detector, policy), saved with a snapshot
     * @param restoreEngineState puts it back on a rewind
     */
    static Recovery of(
            GradGuardConfig config,
            DjlTrainer trainer,
            String model,
            java.util.function.Supplier<Object> saveEngineState,
            java.util.function.Consumer<Object> restoreEngineState) {
        RecoveryLadder ladder = RecoveryLadder.of(config, AutoClip.TYPE.name().equals(config.get(ClipPolicies.TYPE)));
        if (ladder == null) {
            return null;
        }
        try {
            OptimizerControl control = OptimizerControl.of(trainer);
            if (ladder.backsOff() && !control.canScaleRate()) {
                Console.warn(model + ": the optimizer " + control.optimizerName() + " reads no learning-rate tracker;"
                        + " the recovery ladder cannot back its rate off (skips and rewinds still work)");
            }
            return new Recovery(trainer, ladder, control, saveEngineState, restoreEngineState);
        } catch (UnsupportedDjlException e) {
            Console.loud(
                    model + ": " + e.getMessage(),
                    "The recovery ladder is OFF for this trainer; clipping and"
                            + " skipping of non-finite steps stay on.");
            return null;
        }
    }

    /** The ladder's verdict on this step, carried out: factor set, snapshot taken or restored. */
    RecoveryVerdict beforeUpdate(
            long step, double globalNorm, boolean explosion, double bound, double loss, boolean healthy) {
        String firstId = trainer.trainable().isEmpty()
                ? null
                : trainer.trainable().get(0).parameter().getId();
        double nextRate = firstId == null ? Double.NaN : optimizer.nextJobRate(firstId);
        RecoveryVerdict v =
                ladder.beforeUpdate(step, globalNorm, explosion, bound, loss, nextRate, savedOptimizer != null);
        if (v.lrScale() != appliedScale && optimizer.canScaleRate()) {
            optimizer.scaleRate(v.lrScale());
            appliedScale = v.lrScale();
        }
        switch (v.action()) {
            case REWIND -> restore();
            default -> {
                if (ladder.snapshotDue(step, healthy && !v.skipsUpdate())) {
                    save();
                    ladder.snapshotTaken(step);
                }
            }
        }
        return v;
    }

    /** The failure to throw when the ladder gives up with {@code recovery.on_exhausted=fail}. */
    RuntimeException exhausted(long step, String why) {
        return new RecoveryExhaustedException("gradguard: the run kept diverging at step " + step + " (" + why
                + "); lower the learning rate, or set recovery.on_exhausted=stop to let it run");
    }

    private void save() {
        close();
        snapshotArrays = trainer.manager().newSubManager();
        List<NDArray> live = new ArrayList<>();
        List<NDArray> saved = new ArrayList<>();
        ParameterStore store = trainer.parameterStore();
        for (TrainableParameter p : trainer.trainable()) {
            for (Device d : trainer.devices()) {
                NDArray weight = store.getValue(p.parameter(), d, true);
                NDArray copy = weight.duplicate();
                copy.attach(snapshotArrays);
                live.add(weight);
                saved.add(copy);
            }
        }
        liveWeights = live;
        savedWeights = saved;
        savedOptimizer = optimizer.save(snapshotArrays);
        savedEngineState = saveEngineState.get();
    }

    private void restore() {
        for (int i = 0; i < liveWeights.size(); i++) {
            Overwrite.with(liveWeights.get(i), savedWeights.get(i));
        }
        optimizer.restore(savedOptimizer);
        restoreEngineState.accept(savedEngineState);
    }

    @Override
    public void close() {
        if (snapshotArrays != null) {
            snapshotArrays.close();
            snapshotArrays = null;
        }
    }
}
