package io.gradguard.core.guard;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;

import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.djl.TrainableParameter;
import io.gradguard.core.stats.ParameterGradient;

import java.util.ArrayList;
import java.util.List;

/**
 * The gradients the optimizer is about to read, for exactly the parameters it will update.
 *
 * <p>Each {@code getGradient()} is a new native handle, attached here to the step's scratch
 * manager so that closing it frees them all. With several devices the copies are summed into the
 * first one and the others zeroed when the gradients will be rewritten (DJL's parameter server sums
 * the copies again, so the sum is what the optimizer applies); otherwise a summed temporary serves
 * the statistics only.
 */
final class StepGradients {

    private final DjlTrainer trainer;

    StepGradients(DjlTrainer trainer) {
        this.trainer = trainer;
    }

    List<ParameterGradient> read(NDManager scratch, boolean reduceInPlace) {
        List<TrainableParameter> trainable = trainer.trainable();
        ParameterStore store = trainer.parameterStore();
        Device[] devices = trainer.devices();
        List<ParameterGradient> out = new ArrayList<>(trainable.size());
        for (TrainableParameter p : trainable) {
            NDArray weight = store.getValue(p.parameter(), devices[0], true);
            NDArray grad = weight.getGradient();
            grad.attach(scratch);
            for (int d = 1; d < devices.length; d++) {
                NDArray copy = store.getValue(p.parameter(), devices[d], true).getGradient();
                copy.attach(scratch);
                NDArray onFirst = copy.toDevice(devices[0], false);
                onFirst.attach(scratch);
                if (reduceInPlace) {
                    grad.addi(onFirst);
                    GradientOps.zeroInPlace(copy);
                } else {
                    grad = grad.add(onFirst);
                    grad.attach(scratch);
                }
            }
            out.add(new ParameterGradient(p.name(), weight, grad));
        }
        return out;
    }
}
