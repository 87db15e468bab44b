package io.gradguard.core.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import java.util.List;

/**
 * Everything gradguard reads of a DJL {@code Trainer}, behind one interface so that the rest of
 * the agent never depends on DJL's private fields. One implementation per DJL shape; {@link
 * #of(Trainer)} picks the one that fits.
 */
public interface DjlTrainer {

    /**
     * The view of a trainer for the DJL shape it has.
     *
     * @param trainer the trainer
     * @return its view
     * @throws UnsupportedDjlException when no known shape fits this DJL
     */
    static DjlTrainer of(Trainer trainer) {
        return StoreBackedTrainer.of(trainer);
    }

    /**
     * Checks that this DJL has a shape gradguard knows, before anything else of the agent starts.
     *
     * @throws UnsupportedDjlException naming what is missing and the supported versions
     */
    static void requireKnownShape() {
        StoreBackedTrainer.requireKnownShape();
    }

    /** @return the trainer */
    Trainer trainer();

    /** @return the DJL name of the trainer's model, the {@code model} label */
    String modelName();

    /** @return the trainer's manager, under which per-step temporaries are created */
    NDManager manager();

    /** @return the training devices; the first is where device copies are reduced */
    Device[] devices();

    /** @return the store that holds every device's copy of each parameter */
    ParameterStore parameterStore();

    /** @return whether DJL's first-step all-zero check already passed */
    boolean gradientsChecked();

    /**
     * The parameters the optimizer updates at the next {@code step()}: those in the parameter
     * store that require a gradient, each once (a block used twice holds one parameter). Checked at
     * every call, cheaply (no walk of the block tree unless something changed).
     *
     * @return the same list instance as long as nothing changed; a new one after a freeze, an
     *     unfreeze or a parameter first used
     */
    List<TrainableParameter> trainable();
}
