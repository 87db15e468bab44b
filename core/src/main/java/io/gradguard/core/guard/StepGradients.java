package io.gradguard.core.guard;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.djl.Scratch;
import io.gradguard.core.djl.TrainableParameter;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StatisticsPlan;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradients the optimizer is about to read, for exactly the parameters it will update, and the
 * plan by which their statistics are computed.
 *
 * <p><b>One device.</b> The handles are fetched once and kept across steps: PyTorch accumulates
 * each backward into the same {@code .grad} tensor in place, and DJL's optimizers clear it with
 * {@code zero_()}, so a handle stays the gradient the optimizer reads. They are fetched anew when
 * the trainable set changes, when the store holds another weight array for a parameter, and every
 * {@value #REFRESH_STEPS} steps regardless. That saves a native call and a handle per parameter per
 * step, and the per-step shape queries of the plan.
 *
 * <p><b>Several devices.</b> The copies are summed into the first device each step; when the
 * gradients will be rewritten the others are zeroed (DJL's parameter server sums the copies again,
 * so the sum is what the optimizer applies), otherwise a summed temporary serves the statistics.
 */
final class StepGradients implements AutoCloseable {

    /** Steps after which kept handles are fetched again even though nothing seemed to change. */
    static final int REFRESH_STEPS = 1000;

    /** A step's gradients with the plan that fits them. */
    record Read(List<ParameterGradient> gradients, StatisticsPlan plan) {}

    private final DjlTrainer trainer;
    private List<TrainableParameter> keptFor;
    private NDManager keptHandles;
    private Read kept;
    private int keptSteps;
    private boolean keptAreParameterArrays;

    StepGradients(DjlTrainer trainer) {
        this.trainer = trainer;
    }

    Read read(Scratch scratch, boolean reduceInPlace) {
        List<TrainableParameter> trainable = trainer.trainable();
        Device[] devices = trainer.devices();
        if (devices.length > 1) {
            List<ParameterGradient> grads = reduced(trainable, devices, scratch, reduceInPlace);
            return new Read(grads, StatisticsPlan.of(grads));
        }
        if (kept == null || trainable != keptFor || ++keptSteps >= REFRESH_STEPS || weightsMoved(trainable)) {
            close();
            keptHandles = trainer.manager().newSubManager();
            List<ParameterGradient> grads = new ArrayList<>(trainable.size());
            ParameterStore store = trainer.parameterStore();
            for (TrainableParameter p : trainable) {
                NDArray weight = store.getValue(p.parameter(), devices[0], true);
                NDArray grad = weight.getGradient();
                grad.attach(keptHandles);
                grads.add(new ParameterGradient(p.name(), weight, grad));
            }
            StatisticsPlan plan = StatisticsPlan.of(grads, keptHandles);
            for (int i = 0; i < grads.size(); i++) {
                // the plan's storage views go with the kept handles, for policies to scale in Java
                ParameterGradient g = grads.get(i);
                grads.set(i, new ParameterGradient(g.name(), g.weight(), g.gradient(), plan.hostView(i)));
            }
            kept = new Read(List.copyOf(grads), plan);
            keptFor = trainable;
            keptSteps = 0;
            keptAreParameterArrays = areParameterArrays(trainable, grads);
        }
        return kept;
    }

    /** Whether the store now returns another weight array for a parameter (a model was reloaded). */
    private boolean weightsMoved(List<TrainableParameter> trainable) {
        List<ParameterGradient> grads = kept.gradients();
        if (keptAreParameterArrays) {
            return !areParameterArrays(trainable, grads);
        }
        ParameterStore store = trainer.parameterStore();
        Device device = trainer.devices()[0];
        for (int i = 0; i < grads.size(); i++) {
            if (store.getValue(trainable.get(i).parameter(), device, true)
                    != grads.get(i).weight()) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the store hands out each parameter's own array (one device, the parameter's, as in
     * most jobs): then a reload shows in the parameter itself, and the per-step check reads a field
     * per parameter instead of asking the store (a map lookup and a lambda each, 15 us a step on
     * 54 parameters, profiled).
     */
    private static boolean areParameterArrays(List<TrainableParameter> trainable, List<ParameterGradient> grads) {
        for (int i = 0; i < grads.size(); i++) {
            if (trainable.get(i).parameter().getArray() != grads.get(i).weight()) {
                return false;
            }
        }
        return true;
    }

    private List<ParameterGradient> reduced(
            List<TrainableParameter> trainable, Device[] devices, Scratch scratch, boolean reduceInPlace) {
        ParameterStore store = trainer.parameterStore();
        List<ParameterGradient> out = new ArrayList<>(trainable.size());
        for (TrainableParameter p : trainable) {
            NDArray weight = store.getValue(p.parameter(), devices[0], true);
            NDArray grad = weight.getGradient();
            scratch.own(grad);
            for (int d = 1; d < devices.length; d++) {
                NDArray copy = store.getValue(p.parameter(), devices[d], true).getGradient();
                scratch.own(copy);
                NDArray onFirst = copy.toDevice(devices[0], false);
                scratch.own(onFirst);
                if (reduceInPlace) {
                    grad.addi(onFirst);
                    GradientOps.zeroInPlace(copy);
                } else {
                    grad = grad.add(onFirst);
                    scratch.own(grad);
                }
            }
            out.add(new ParameterGradient(p.name(), weight, grad));
        }
        return out;
    }

    /** Frees the kept handles (the gradients themselves belong to DJL). */
    @Override
    public void close() {
        if (keptHandles != null) {
            keptHandles.close();
            keptHandles = null;
        }
        kept = null;
    }
}
