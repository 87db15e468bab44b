package io.gradguard.bootstrap;

/**
 * The one narrow door between advice inlined into DJL's classes and the agent's runtime.
 *
 * <p>Advice runs inside DJL's class loader, which in fat jars and launchers cannot see the agent
 * jar. This class is therefore placed on the bootstrap class path, where every loader finds it,
 * and uses JDK types only. The implementation behind {@link Hook} lives in a loader that sees both
 * the agent's classes and DJL's; it is created on first use for the loader DJL was found in.
 *
 * <p>Every method here is fail-open: nothing thrown by the runtime reaches the job, except the
 * failure a user asked for ({@code on_nonfinite=fail}), which {@link #afterStep} hands back to the
 * advice to throw.
 */
public final class GradGuardBridge {

    /** The runtime's side of the bridge. Arguments are DJL objects typed as {@code Object}. */
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
         * @return null to run the step; non-null to skip its body (a {@link Throwable} to throw)
         */
        Object beforeStep(Object trainer);

        /**
         * {@code Trainer.step()} exit, also after a skipped or failed body.
         *
         * @param trainer the trainer
         * @param bodyThrew whether DJL's own update threw
         */
        void afterStep(Object trainer, boolean bodyThrew);

        /**
         * {@code Trainer.newGradientCollector()} returned: backward calls on this collector belong
         * to this trainer.
         *
         * @param trainer the trainer
         * @param collector the new collector
         */
        void collectorCreated(Object trainer, Object collector);

        /**
         * {@code GradientCollector.backward(target)} returned.
         *
         * @param collector the collector
         * @param target the backward target, usually the loss
         */
        void backward(Object collector, Object target);
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

    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private static volatile HookFactory factory;
    private static volatile Hook hook;
    private static volatile ClassLoader boundLoader;
    private static volatile boolean warnedOtherLoader;
    private static volatile boolean protectionRestored;

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
     * Advice entry point for a new trainer.
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
     * Advice entry point at {@code step()} entry.
     *
     * @param trainer the trainer
     * @return null to run the body; non-null to skip it
     */
    public static Object beforeStep(Object trainer) {
        // A Trainer subclass whose step() calls super.step() is instrumented twice: only the
        // outermost call acts.
        if (DEPTH.get()[0]++ > 0) {
            return null;
        }
        try {
            Hook h = hookFor(trainer);
            return h == null ? null : h.beforeStep(trainer);
        } catch (Throwable t) {
            report(t);
            return null;
        }
    }

    /**
     * Advice entry point at {@code step()} exit.
     *
     * @param trainer the trainer
     * @param decision what {@link #beforeStep} returned
     * @return a failure to throw into the job, or null
     */
    public static Throwable afterStep(Object trainer, Object decision, Throwable thrown) {
        if (--DEPTH.get()[0] > 0) {
            return null;
        }
        try {
            Hook h = hookFor(trainer);
            if (h != null) {
                // the body ran only when beforeStep returned null; then what it threw is DJL's
                h.afterStep(trainer, decision == null && thrown != null);
            }
        } catch (Throwable t) {
            report(t);
        }
        return decision instanceof Throwable ? (Throwable) decision : null;
    }

    /**
     * Advice entry point after {@code Trainer.newGradientCollector()}.
     *
     * @param trainer the trainer
     * @param collector the collector it returned
     */
    public static void collectorCreated(Object trainer, Object collector) {
        try {
            Hook h = hookFor(trainer);
            if (h != null && collector != null) {
                h.collectorCreated(trainer, collector);
            }
        } catch (Throwable t) {
            report(t);
        }
    }

    /**
     * Advice entry point after {@code GradientCollector.backward(target)}.
     *
     * @param collector the collector
     * @param target the backward target
     */
    public static void backward(Object collector, Object target) {
        try {
            Hook h = hook;
            // a collector of a second DJL copy is not ours
            if (h != null && collector != null && collectorInterfaceLoader(collector.getClass()) == boundLoader) {
                h.backward(collector, target);
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

    private static Hook hookFor(Object trainer) {
        Hook h = hook;
        ClassLoader loader = djlLoader(trainer.getClass());
        if (h != null) {
            return loader == boundLoader ? h : otherLoader();
        }
        synchronized (GradGuardBridge.class) {
            if (hook == null && boundLoader == null && factory != null) {
                boundLoader = loader;
                hook = factory.create(loader);
            }
            return loader == boundLoader ? hook : otherLoader();
        }
    }

    /** The loader of DJL's {@code GradientCollector} interface that this collector implements. */
    private static ClassLoader collectorInterfaceLoader(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if ("ai.djl.training.GradientCollector".equals(i.getName())) {
                    return i.getClassLoader();
                }
            }
        }
        return null;
    }

    /** The loader of DJL's own Trainer, also when the job subclasses it elsewhere. */
    private static ClassLoader djlLoader(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if ("ai.djl.training.Trainer".equals(c.getName())) {
                return c.getClassLoader();
            }
        }
        return type.getClassLoader();
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
