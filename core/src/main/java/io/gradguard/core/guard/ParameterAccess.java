package io.gradguard.core.guard;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;

import io.gradguard.core.stats.ParameterGradient;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds a trainer's trainable parameters and the gradients its optimizer is about to read.
 *
 * <p>The parameter list is resolved once per trainer ({@code Block.getParameters()} walks the whole
 * block tree). Gradients are fetched anew each step: each {@code getGradient()} is a new native
 * handle, attached here to the step's scratch manager so that closing it frees them all.
 */
final class ParameterAccess {

    private final List<Pair<String, Parameter>> trainable = new ArrayList<>();
    private final Device[] devices;

    ParameterAccess(Trainer trainer) {
        devices = trainer.getDevices();
        for (Pair<String, Parameter> p : trainer.getModel().getBlock().getParameters()) {
            if (p.getValue().requiresGradient()) {
                trainable.add(p);
            }
        }
    }

    int size() {
        return trainable.size();
    }

    /**
     * The step's gradients. With several devices the copies are summed into the first one and the
     * others zeroed when {@code reduceInPlace} (a policy will rewrite them, and DJL's parameter
     * server sums the copies again, so the sum is what the optimizer applies); otherwise a summed
     * temporary is returned for statistics only.
     */
    List<ParameterGradient> gradients(ParameterStore store, NDManager scratch, boolean reduceInPlace) {
        List<ParameterGradient> out = new ArrayList<>(trainable.size());
        for (Pair<String, Parameter> p : trainable) {
            NDArray weight = store.getValue(p.getValue(), devices[0], true);
            NDArray grad = weight.getGradient();
            grad.attach(scratch);
            for (int d = 1; d < devices.length; d++) {
                NDArray copy = store.getValue(p.getValue(), devices[d], true).getGradient();
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
            out.add(new ParameterGradient(p.getKey(), weight, grad));
        }
        return out;
    }
}
