package io.gradguard.core.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterServer;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.ParameterTracker;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the recovery ladder does to a trainer's optimizer: scale its learning rate, and save and
 * restore its state (SGD momentum, Adam moments, update counts) together with the weights.
 *
 * <p>DJL's optimizers read the rate from a {@code ParameterTracker} field at every update, so the
 * rate is scaled by wrapping that field's tracker ({@link ScaledTracker}); any optimizer with such
 * a field works, the job's own subclasses included. State is every field of type {@code
 * Map<String, Map<Device, NDArray>>} (DJL's per-parameter state, e.g. {@code momentumStates},
 * {@code means}, {@code variances}) and the update counters of {@code Optimizer}.
 */
public final class OptimizerControl {

    private final Optimizer optimizer;
    private final List<ScaledTracker> trackers = new ArrayList<>();
    private final List<Field> stateFields = new ArrayList<>();
    private final Field updateCounts;
    private final Field numUpdate;

    private OptimizerControl(Optimizer optimizer) throws ReflectiveOperationException {
        this.optimizer = optimizer;
        for (Class<?> c = optimizer.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (Modifier.isStatic(f.getModifiers())) {
                    continue;
                }
                if (ParameterTracker.class.isAssignableFrom(f.getType())) {
                    f.setAccessible(true);
                    Object tracker = f.get(optimizer);
                    if (tracker instanceof ScaledTracker scaled) {
                        trackers.add(scaled); // a second engine for the same optimizer
                    } else if (tracker != null) {
                        ScaledTracker scaled = new ScaledTracker((ParameterTracker) tracker);
                        f.set(optimizer, scaled);
                        trackers.add(scaled);
                    }
                } else if (Map.class.isAssignableFrom(f.getType()) && c != Optimizer.class) {
                    f.setAccessible(true);
                    stateFields.add(f);
                }
            }
        }
        updateCounts = Optimizer.class.getDeclaredField("updateCounts");
        updateCounts.setAccessible(true);
        numUpdate = Optimizer.class.getDeclaredField("numUpdate");
        numUpdate.setAccessible(true);
    }

    /**
     * The optimizer of a trainer, its rate trackers wrapped so that they can be scaled (at factor 1
     * they return exactly the job's rate).
     *
     * @param trainer the trainer
     * @return the control, or null when this optimizer cannot be reached (the reason is thrown)
     * @throws UnsupportedDjlException naming what was not found
     */
    public static OptimizerControl of(DjlTrainer trainer) {
        try {
            ParameterStore store = trainer.parameterStore();
            ParameterServer server = (ParameterServer)
                    field(ParameterStore.class, ParameterServer.class).get(store);
            Optimizer optimizer =
                    (Optimizer) field(server.getClass(), Optimizer.class).get(server);
            return new OptimizerControl(optimizer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new UnsupportedDjlException("the trainer's optimizer cannot be reached in DJL " + SupportedDjl.seen()
                    + " (" + e + "); learning-rate backoff and rewinds need " + SupportedDjl.RANGE);
        }
    }

    private static Field field(Class<?> owner, Class<?> type) throws NoSuchFieldException {
        for (Class<?> c = owner; c != null; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
                if (type.isAssignableFrom(f.getType()) && !Modifier.isStatic(f.getModifiers())) {
                    f.setAccessible(true);
                    return f;
                }
            }
        }
        throw new NoSuchFieldException(owner.getName() + " has no " + type.getSimpleName() + " field");
    }

    /** @return whether the rate can be scaled (the optimizer reads it from a tracker) */
    public boolean canScaleRate() {
        return !trackers.isEmpty();
    }

    /**
     * Sets the factor on the job's learning rate.
     *
     * @param factor 1 = the job's own rate
     */
    public void scaleRate(double factor) {
        for (ScaledTracker t : trackers) {
            t.factor((float) factor);
        }
    }

    /** @return the job's own rate at the last update (before the factor), or NaN before the first */
    public double lastJobRate() {
        return trackers.isEmpty() ? Double.NaN : trackers.get(0).lastJobRate();
    }

    /**
     * The rate the job's own schedule gives the coming update, asked of its tracker as the
     * optimizer will ask it (DJL's trackers are functions of the update count), or NaN when the
     * rate is not read from a tracker.
     *
     * @param parameterId a trainable parameter's id
     * @return the job's rate for the next update, before the factor
     */
    public double nextJobRate(String parameterId) {
        if (trackers.isEmpty()) {
            return Double.NaN;
        }
        try {
            return trackers.get(0).job().getNewValue(parameterId, numUpdate.getInt(optimizer) + 1);
        } catch (IllegalAccessException | RuntimeException e) {
            return Double.NaN;
        }
    }

    /** @return the optimizer's class, for messages */
    public String optimizerName() {
        return optimizer.getClass().getSimpleName();
    }

    /**
     * A copy of the optimizer's state, owned by {@code owner}.
     *
     * @param owner the manager of the copies; closing it frees them
     * @return the state
     */
    public State save(NDManager owner) {
        try {
            Map<Field, Map<String, Map<Device, NDArray>>> copies = new HashMap<>();
            for (Field f : stateFields) {
                Map<String, Map<Device, NDArray>> copy = new HashMap<>();
                for (Map.Entry<?, ?> e : ((Map<?, ?>) f.get(optimizer)).entrySet()) {
                    if (!(e.getValue() instanceof Map<?, ?> perDevice)) {
                        continue;
                    }
                    Map<Device, NDArray> arrays = new HashMap<>();
                    for (Map.Entry<?, ?> d : perDevice.entrySet()) {
                        if (d.getKey() instanceof Device device && d.getValue() instanceof NDArray a) {
                            NDArray c = a.duplicate();
                            c.attach(owner);
                            arrays.put(device, c);
                        }
                    }
                    copy.put(String.valueOf(e.getKey()), arrays);
                }
                copies.put(f, copy);
            }
            @SuppressWarnings("unchecked")
            Map<String, Integer> counts = new HashMap<>((Map<String, Integer>) updateCounts.get(optimizer));
            return new State(copies, counts, numUpdate.getInt(optimizer));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Puts a saved state back, in place: arrays present now and then are overwritten with the saved
     * values; state created after the save is dropped (DJL recreates it as zeros, as at start).
     *
     * @param state what {@link #save} returned
     */
    @SuppressWarnings("unchecked")
    public void restore(State state) {
        try {
            for (Field f : stateFields) {
                Map<Object, Object> live = (Map<Object, Object>) f.get(optimizer);
                Map<String, Map<Device, NDArray>> saved = state.arrays().get(f);
                List<Object> gone = new ArrayList<>();
                for (Map.Entry<Object, Object> e : live.entrySet()) {
                    Map<Device, NDArray> was = saved == null ? null : saved.get(String.valueOf(e.getKey()));
                    if (was == null || !(e.getValue() instanceof Map<?, ?>)) {
                        gone.add(e.getKey());
                        continue;
                    }
                    for (Map.Entry<Object, Object> d : ((Map<Object, Object>) e.getValue()).entrySet()) {
                        NDArray copy = was.get(d.getKey());
                        if (copy != null && d.getValue() instanceof NDArray a) {
                            Overwrite.with(a, copy);
                        }
                    }
                }
                gone.forEach(live::remove);
            }
            Map<String, Integer> counts = (Map<String, Integer>) updateCounts.get(optimizer);
            counts.clear();
            counts.putAll(state.updateCounts());
            numUpdate.setInt(optimizer, state.numUpdate());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A saved optimizer state.
     *
     * @param arrays per state field, per parameter id, per device: the copies
     * @param updateCounts the per-parameter update counts
     * @param numUpdate the global update count (Adam's bias correction reads it)
     */
    public record State(
            Map<Field, Map<String, Map<Device, NDArray>>> arrays, Map<String, Integer> updateCounts, int numUpdate) {}
}
