package io.gradguard.agent.runtime;

import ai.djl.Model;
import ai.djl.training.Trainer;
import io.gradguard.core.console.Console;
import io.gradguard.core.guard.StepEngine;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.BiFunction;

/**
 * One {@link StepEngine} per trainer, and the routing of everything that belongs to a trainer: its
 * steps, and the losses of the gradient collectors it created. Called from any training thread;
 * every field is guarded by this object's lock (uncontended: nanoseconds), and nothing is held
 * strongly that would keep a finished trainer alive.
 *
 * <p>Routing runs three or four times a step, so the usual case touches no map: the trainer is
 * the one asked for last, and the collector is one of the last few made. PyTorch allows one
 * collector to collect at a time, so the newest is the one a {@code backward} belongs to, whichever
 * thread calls it.
 */
final class TrainerEngines {

    /** Collectors remembered, newest first: more than engines that let several collect at once need. */
    private static final int RECENT_COLLECTORS = 4;

    private final BiFunction<Trainer, String, StepEngine> factory;
    private final Map<Trainer, StepEngine> engines = new WeakHashMap<>();
    /** The models each label was given to: a second model under a taken name gets its own label. */
    private final Map<String, Map<Model, Boolean>> modelsByLabel = new HashMap<>();

    /** The trainer asked for last, weakly, and its engine. */
    private WeakReference<Trainer> lastTrainer = new WeakReference<>(null);

    private StepEngine lastEngine;

    /**
     * The collectors made last and their engines, a ring: strongly, as a DJL collector holds a
     * flag, not its trainer, and each is replaced a few steps later.
     */
    private final Object[] recentCollectors = new Object[RECENT_COLLECTORS];

    private final StepEngine[] recentCollectorEngines = new StepEngine[RECENT_COLLECTORS];
    private int collectorsMade;

    /** Weakly, like the maps: a thread's last engine must not outlive its trainer. */
    private final ThreadLocal<WeakReference<StepEngine>> lastOnThread = new ThreadLocal<>();

    /** @param factory makes the engine of a trainer under a model label */
    TrainerEngines(BiFunction<Trainer, String, StepEngine> factory) {
        this.factory = factory;
    }

    /** The trainer's engine, made on first use. */
    synchronized StepEngine of(Trainer trainer) {
        StepEngine engine = lastTrainer.get() == trainer ? lastEngine : null;
        if (engine == null) {
            engine = engines.get(trainer);
            if (engine == null) {
                engine = factory.apply(trainer, label(trainer.getModel()));
                engines.put(trainer, engine);
            }
            lastTrainer = new WeakReference<>(trainer);
            lastEngine = engine;
        }
        WeakReference<StepEngine> last = lastOnThread.get();
        if (last == null || last.get() != engine) {
            lastOnThread.set(new WeakReference<>(engine));
        }
        return engine;
    }

    /** Routes the collector's {@code backward} calls to the trainer's engine, and returns that engine. */
    synchronized StepEngine collectorCreated(Trainer trainer, Object collector) {
        StepEngine engine = of(trainer);
        int slot = collectorsMade++ % RECENT_COLLECTORS;
        recentCollectors[slot] = collector;
        recentCollectorEngines[slot] = engine;
        return engine;
    }

    /**
     * The engine a backward call belongs to: the one whose trainer made the collector; for a
     * collector made elsewhere (the engine's own factory), the last engine used on this thread.
     */
    synchronized StepEngine forCollector(Object collector) {
        for (int i = 1; i <= RECENT_COLLECTORS; i++) {
            int slot = Math.floorMod(collectorsMade - i, RECENT_COLLECTORS);
            if (recentCollectors[slot] == collector) {
                return recentCollectorEngines[slot];
            }
        }
        WeakReference<StepEngine> last = lastOnThread.get();
        return last == null ? null : last.get();
    }

    /**
     * The model label: the model's name, unless another live model already has it. Sequential
     * trainers of one model share its series; two different models named alike must not merge.
     */
    private String label(Model model) {
        String name = model.getName();
        for (int n = 1; ; n++) {
            String label = n == 1 ? name : name + "-" + n;
            Map<Model, Boolean> owners = modelsByLabel.computeIfAbsent(label, k -> new WeakHashMap<>());
            if (owners.isEmpty() || owners.containsKey(model)) {
                owners.put(model, Boolean.TRUE);
                if (n > 1) {
                    Console.warn("a second model is named '" + name + "' while the first is alive; its series carry"
                            + " model=\"" + label + "\" (give each model its own name with Model.newInstance(name))");
                }
                return label;
            }
        }
    }
}
