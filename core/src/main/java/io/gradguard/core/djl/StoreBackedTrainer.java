package io.gradguard.core.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.util.Pair;
import java.lang.ref.WeakReference;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The DJL shape of 0.32 to 0.36: a {@code Trainer} with private fields {@code parameterStore}
 * and {@code gradientsChecked}, and a {@code ParameterStore} whose private {@code parameterMap}
 * (by parameter id) holds exactly what {@code updateAllParameters()} updates: each entry whose
 * parameter requires a gradient.
 *
 * <p>The set of trainable parameters is derived from that map, so a parameter used twice (a block
 * added twice, tied weights) counts once, and a freeze or an unfreeze during training is seen at
 * the next step. Finding out costs, per step, one {@code size()} and one {@code
 * requiresGradient()} per parameter; the block tree is walked only when that changes.
 */
final class StoreBackedTrainer implements DjlTrainer {

    // By name: a stand-in or partial DJL may lack a class, which must give one line, not a crash.
    private static final Field PARAMETER_STORE = field("ai.djl.training.Trainer", "parameterStore");
    private static final Field GRADIENTS_CHECKED = field("ai.djl.training.Trainer", "gradientsChecked");
    private static final Field PARAMETER_MAP = field("ai.djl.training.ParameterStore", "parameterMap");

    /**
     * Weakly: the agent maps each trainer to the engine that holds this, and a strong reference
     * from the map's value to its key would keep every closed trainer (and its model) alive.
     */
    private final WeakReference<Trainer> trainer;

    private final ParameterStore store;
    private final Map<String, ?> parameterMap;
    private final Device[] devices;

    // What the last look found: every parameter in the store, and which of them required a gradient.
    private Parameter[] inStore = new Parameter[0];
    private boolean[] required = new boolean[0];
    private List<TrainableParameter> trainable = List.of();

    private StoreBackedTrainer(Trainer trainer, ParameterStore store, Map<String, ?> parameterMap) {
        this.trainer = new WeakReference<>(trainer);
        this.store = store;
        this.parameterMap = parameterMap;
        this.devices = trainer.getDevices();
    }

    static void requireKnownShape() {
        if (PARAMETER_STORE == null || GRADIENTS_CHECKED == null || PARAMETER_MAP == null) {
            throw new UnsupportedDjlException("DJL " + SupportedDjl.seen() + " has no Trainer.parameterStore, "
                    + "Trainer.gradientsChecked or ParameterStore.parameterMap; gradguard supports "
                    + SupportedDjl.RANGE);
        }
    }

    static StoreBackedTrainer of(Trainer trainer) {
        requireKnownShape();
        try {
            ParameterStore store = (ParameterStore) PARAMETER_STORE.get(trainer);
            Map<String, ?> map = (Map<String, ?>) PARAMETER_MAP.get(store);
            return new StoreBackedTrainer(trainer, store, map);
        } catch (IllegalAccessException | ClassCastException e) {
            throw new UnsupportedDjlException("DJL " + SupportedDjl.seen() + " has another Trainer shape (" + e
                    + "); gradguard supports " + SupportedDjl.RANGE);
        }
    }

    @Override
    public Trainer trainer() {
        Trainer t = trainer.get();
        if (t == null) {
            throw new IllegalStateException("the trainer is no longer referenced by the job");
        }
        return t;
    }

    @Override
    public String modelName() {
        return trainer().getModel().getName();
    }

    @Override
    public NDManager manager() {
        return trainer().getManager();
    }

    @Override
    public Device[] devices() {
        return devices;
    }

    @Override
    public ParameterStore parameterStore() {
        return store;
    }

    @Override
    public boolean gradientsChecked() {
        try {
            return GRADIENTS_CHECKED.getBoolean(trainer());
        } catch (IllegalAccessException e) {
            return true; // never reached once the field was made accessible
        }
    }

    @Override
    public List<TrainableParameter> trainable() {
        if (parameterMap.size() != inStore.length || trainabilityChanged()) {
            rebuild();
        }
        return trainable;
    }

    private boolean trainabilityChanged() {
        for (int i = 0; i < inStore.length; i++) {
            if (inStore[i].requiresGradient() != required[i]) {
                return true;
            }
        }
        return false;
    }

    /** Orders the store's parameters as the block tree does and names them by their first use. */
    private void rebuild() {
        Set<Parameter> stored = storedParameters();
        List<TrainableParameter> next = new ArrayList<>();
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        for (Pair<String, Parameter> p : trainer().getModel().getBlock().getParameters()) {
            Parameter parameter = p.getValue();
            if (stored.contains(parameter)
                    && seen.put(parameter, Boolean.TRUE) == null
                    && parameter.requiresGradient()) {
                next.add(new TrainableParameter(p.getKey(), parameter));
            }
        }
        Parameter[] all = stored.toArray(new Parameter[0]);
        boolean[] flags = new boolean[all.length];
        for (int i = 0; i < all.length; i++) {
            flags[i] = all[i].requiresGradient();
        }
        inStore = all;
        required = flags;
        trainable = List.copyOf(next);
    }

    private Set<Parameter> storedParameters() {
        Set<Parameter> out = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        Collection<?> entries = parameterMap.values();
        for (Object data : entries) {
            Parameter p = ParameterDataAccess.parameterOf(data);
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    private static Field field(String type, String name) {
        try {
            Field f = Class.forName(type, false, StoreBackedTrainer.class.getClassLoader())
                    .getDeclaredField(name);
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** The {@code parameter} field of the store's private {@code ParameterData}. */
    private static final class ParameterDataAccess {
        private static volatile Field parameter;

        static Parameter parameterOf(Object data) {
            try {
                Field f = parameter;
                if (f == null) {
                    f = data.getClass().getDeclaredField("parameter");
                    f.setAccessible(true);
                    parameter = f;
                }
                return (Parameter) f.get(data);
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new UnsupportedDjlException("DJL " + SupportedDjl.seen() + " has another ParameterStore shape ("
                        + e + "); gradguard supports " + SupportedDjl.RANGE);
            }
        }
    }
}
