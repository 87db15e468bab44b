package io.gradguard.bootstrap;

/**
 * The one narrow door between the calls woven into DJL's classes and the agent's runtime.
 *
 * <p>The woven calls run inside DJL's class loader, which in fat jars and launchers cannot see the agent
 * jar. This class is therefore placed on the bootstrap class path, where every loader finds it,
 * and uses JDK types only. The implementation behind {@link Hook} lives in a loader that sees both
 * the agent's classes and DJL's; it is created on first use for the loader DJL was found in.
 *
 * <p>Every method here is fail-open: nothing thrown by the runtime reaches the job, except the
 * failure a user asked for ({@code on_nonfinite=fail}), which {@link #afterStep} throws into the job.
 */
public final class GradGuardBridge {

    /**
     * The runtime's side of the bridge. Arguments are DJL objects typed as {@code Object}; {@code
     * enteredNanos} is {@link System#nanoTime()} when the woven call entered the bridge, so that the
     * agent's own time per step counts the routing too.
     */
    public interface Hook {
        /**
         * A {@code Trainer} finished its constructor.
         *
         * @param trainer the trainer
         */
        void trainerCreated(Object trainer);

        /**
         * {@code Trainer.step()} entry.
         *
         * @param trainer the trainer
         * @param enteredNanos when the bridge was entered
         * @return null to run the step; non-null to skip its body (a {@link Throwable} to throw)
         */
        Object beforeStep(Object trainer, long enteredNanos);

        /**
         * {@code Trainer.step()} exit, also after a skipped or failed body.
         *
         * @param trainer the trainer
         * @param bodyThrew whether DJL's own update threw
         * @param enteredNanos when the bridge was entered
         */
        void afterStep(Object trainer, boolean bodyThrew, long enteredNanos);

        /**
         * {@code Trainer.newGradientCollector()} returned: backward calls on this collector belong
         * to this trainer.
         *
         * @param trainer the trainer
         * @param collector the new collector
         * @param enteredNanos when the bridge was entered
         */
        void collectorCreated(Object trainer, Object collector, long enteredNanos);

        /**
         * {@code GradientCollector.backward(target)} returned.
         *
         * @param collector the collector
         * @param target the backward target, usually the loss
         * @param enteredNanos when the bridge was entered
         */
        void backward(Object collector, Object target, long enteredNanos);

        /**
         * {@code Model.save} is called.
         *
         * @param model the model
         * @return true to refuse the save (its weights hold NaN/Inf)
         */
        boolean refuseSave(Object model);
    }

    /** What {@link Hook#beforeStep} returns to skip the update (a Throwable fails the job instead). */
    public static final Object SKIP = new Object();

    /** Creates the runtime for the class loader that defines DJL's {@code Trainer}. */
    public interface HookFactory {
        /**
         * Creates the runtime.
         *
         * @param djlLoader the loader of {@code ai.djl.training.Trainer}
         * @return the hook, or null when the runtime cannot start
         */
        Hook create(ClassLoader djlLoader);
    }

    private static final ThreadLocal<StepState> STEP = ThreadLocal.withInitial(StepState::new);
    private static volatile HookFactory factory;
    private static volatile Hook hook;
    private static volatile ClassLoader boundLoader;
    // The last trainer and collector classes found to be the bound DJL's: a step asks three times,
    // and one identity check spares the walk of the class's supertypes. Weakly: a job's subclass
    // may live in a loader that is meant to go away.
    private static volatile java.lang.ref.WeakReference<Class<?>> boundTrainerType =
            new java.lang.ref.WeakReference<>(null);
    private static volatile java.lang.ref.WeakReference<Class<?>> boundCollectorType =
            new java.lang.ref.WeakReference<>(null);
    private static volatile boolean warnedOtherLoader;
    private static volatile boolean protectionRestored;
    private static java.util.concurrent.FutureTask<Hook> preparing; // guarded by the class
    private static ClassLoader preparingFor; // guarded by the class

    /** Per thread: how deep in nested {@code step()} calls it is, and what the outermost one decided. */
    private static final class StepState {
        int depth;
        Object decision;
    }

    private GradGuardBridge() {}

    /**
     * Installs the factory; called once by the agent's premain or agentmain.
     *
     * @param hookFactory the factory
     */
    public static void install(HookFactory hookFactory) {
        factory = hookFactory;
    }

    /**
     * Starts creating the runtime for DJL's loader on a daemon thread of its own, while the job goes
     * on loading DJL's engine and building its model: the first trainer then finds it made, or waits
     * for the rest of it. Only the first call acts.
     *
     * @param djlLoader the loader of {@code ai.djl.training.Trainer}
     */
    public static void prepare(ClassLoader djlLoader) {
        HookFactory f = factory;
        synchronized (GradGuardBridge.class) {
            if (f == null || preparing != null || hook != null || boundLoader != null) {
                return;
            }
            java.util.concurrent.FutureTask<Hook> task =
                    new java.util.concurrent.FutureTask<>(() -> f.create(djlLoader));
            preparing = task;
            preparingFor = djlLoader;
            Thread t = new Thread(task, "gradguard-prepare");
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Called at the end of each constructor of a {@code Trainer}.
     *
     * @param trainer the trainer
     */
    public static void trainerCreated(Object trainer) {
        try {
            Hook h = hookFor(trainer);
            if (h != null) {
                h.trainerCreated(trainer);
            }
        } catch (Throwable t) {
            report(t);
        }
    }

    /**
     * Called at {@code step()} entry.
     *
     * @param trainer the trainer
     * @return true to skip the body (the optimizer update); {@link #afterStep} runs either way
     */
    public static boolean beforeStep(Object trainer) {
        long entered = System.nanoTime();
        // A Trainer subclass whose step() calls super.step() is instrumented twice: only the
        // outermost call acts.
        StepState s = STEP.get();
        if (s.depth++ > 0) {
            return false;
        }
        s.decision = null;
        try {
            Hook h = hookFor(trainer);
            s.decision = h == null ? null : h.beforeStep(trainer, entered);
        } catch (Throwable t) {
            report(t);
        }
        return s.decision != null;
    }

    /**
     * Called when {@code step()} returns, also after a skipped body.
     *
     * @param trainer the trainer
     */
    public static void afterStep(Object trainer) {
        Throwable failure = finishStep(trainer, false);
        if (failure != null) {
            GradGuardBridge.<RuntimeException>throwUnchecked(failure); // the user asked for it: on_nonfinite=fail
        }
    }

    /**
     * Called when {@code step()} throws.
     *
     * @param thrown what the body threw
     * @param trainer the trainer
     * @return what {@code step()} throws on
     */
    public static Throwable afterStepThrown(Throwable thrown, Object trainer) {
        Throwable failure = finishStep(trainer, true);
        return failure != null ? failure : thrown;
    }

    /** The runtime's after-step work for the outermost call; the failure the job asked for, or null. */
    private static Throwable finishStep(Object trainer, boolean thrown) {
        long entered = System.nanoTime();
        StepState s = STEP.get();
        if (--s.depth > 0) {
            return null;
        }
        s.depth = 0;
        Object decision = s.decision;
        s.decision = null;
        try {
            Hook h = hookFor(trainer);
            if (h != null) {
                // the body ran only when beforeStep decided nothing; then what it threw is DJL's
                h.afterStep(trainer, decision == null && thrown, entered);
            }
        } catch (Throwable t) {
            report(t);
        }
        return decision instanceof Throwable ? (Throwable) decision : null;
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void throwUnchecked(Throwable t) throws T {
        throw (T) t;
    }

    /**
     * Called when {@code Trainer.newGradientCollector()} returns.
     *
     * @param trainer the trainer
     * @param collector the collector it returned
     */
    public static void collectorCreated(Object trainer, Object collector) {
        long entered = System.nanoTime();
        try {
            Hook h = hookFor(trainer);
            if (h != null && collector != null) {
                h.collectorCreated(trainer, collector, entered);
            }
        } catch (Throwable t) {
            report(t);
        }
    }

    /**
     * Called when {@code GradientCollector.backward(target)} returns.
     *
     * @param collector the collector
     * @param target the backward target
     */
    public static void backward(Object collector, Object target) {
        long entered = System.nanoTime();
        try {
            Hook h = hook;
            // a collector of a second DJL copy is not ours
            if (h != null && collector != null && isBoundCollector(collector.getClass())) {
                h.backward(collector, target, entered);
            }
        } catch (Throwable t) {
            report(t);
        }
    }

    /** A config reload mended the protection setting that could not be used at start. */
    public static void protectionRestored() {
        protectionRestored = true;
    }

    /**
     * Whether a config reload mended the protection setting said at start, so the exit need not
     * repeat the warning.
     *
     * @return true after {@link #protectionRestored()}
     */
    public static boolean isProtectionRestored() {
        return protectionRestored;
    }

    private static boolean isBoundCollector(Class<?> type) {
        if (type == boundCollectorType.get()) {
            return true;
        }
        boolean bound = DjlLoaders.collectorOf(type, boundLoader);
        if (bound) {
            boundCollectorType = new java.lang.ref.WeakReference<>(type);
        }
        return bound;
    }

    private static Hook hookFor(Object trainer) {
        Hook h = hook;
        Class<?> type = trainer.getClass();
        if (h != null && type == boundTrainerType.get()) {
            return h;
        }
        ClassLoader loader = DjlLoaders.djlLoader(type);
        if (h != null) {
            if (loader != boundLoader) {
                return otherLoader();
            }
            boundTrainerType = new java.lang.ref.WeakReference<>(type);
            return h;
        }
        synchronized (GradGuardBridge.class) {
            if (hook == null && boundLoader == null && factory != null) {
                boundLoader = loader;
                hook = preparingFor == loader ? prepared() : factory.create(loader);
            }
            return loader == boundLoader ? hook : otherLoader();
        }
    }

    /** The runtime {@link #prepare} started, once it is made; a failure to make it is its factory's to say. */
    private static Hook prepared() {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return preparing.get();
                } catch (InterruptedException e) {
                    interrupted = true; // the job's interrupt is kept for it, after the runtime is there
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            report(e.getCause());
            return null;
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Called at {@code BaseModel.save(path, name)} entry.
     *
     * @param model the model
     * @return true to skip the save: the agent refuses to write weights that hold NaN/Inf
     */
    public static boolean refuseSave(Object model) {
        try {
            Hook h = hook;
            ClassLoader bound = boundLoader;
            return h != null
                    && bound != null
                    && DjlLoaders.baseModelLoader(model.getClass()) == bound
                    && h.refuseSave(model);
        } catch (Throwable t) {
            report(t);
            return false;
        }
    }

    private static Hook otherLoader() {
        if (!warnedOtherLoader) {
            warnedOtherLoader = true;
            System.err.println(
                    "[gradguard] a second copy of DJL in another class loader is left alone (its trainers are"
                            + " not measured or protected); gradguard watches the first DJL it sees");
        }
        return null;
    }

    private static void report(Throwable t) {
        System.err.println("[gradguard] contained a failure in the bridge (training goes on): " + t);
    }
}
