package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;
import io.gradguard.core.console.Console;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.util.Map;

/**
 * Connects the bootstrap bridge to a runtime created on demand for DJL's class loader. Kept apart
 * from {@link GradGuardAgent} so that no bridge class is touched before it is on the bootstrap path.
 */
final class BridgeSetup {

    static final String RUNTIME_CLASS = "io.gradguard.agent.runtime.AgentRuntime";

    private BridgeSetup() {}

    /**
     * @param agentArgs the agent's arguments, handed to the runtime, which reads the settings
     * @param systemProperties the system properties at start
     * @param djl how the start line names the DJL it found
     * @param transformer told about each trainer's class, for subclasses that loaded before it knew them
     */
    static void install(
            URL agentJar,
            String agentArgs,
            Map<String, String> systemProperties,
            String djl,
            TrainerTransformer transformer) {
        GradGuardBridge.install(
                djlLoader -> create(agentJar, djlLoader, agentArgs, systemProperties, djl, transformer));
    }

    /**
     * Starts making the runtime now, off the calling thread, for the first trainer to find.
     *
     * @param djlLoader the loader that defines DJL's {@code Trainer}
     */
    static void prepare(ClassLoader djlLoader) {
        GradGuardBridge.prepare(djlLoader);
    }

    private static GradGuardBridge.Hook create(
            URL agentJar,
            ClassLoader djlLoader,
            String agentArgs,
            Map<String, String> systemProperties,
            String djl,
            TrainerTransformer transformer) {

        try {
            ClassLoader runtimeLoader = new RuntimeClassLoader(agentJar, djlLoader);
            Class<?> runtime = Class.forName(RUNTIME_CLASS, true, runtimeLoader);
            GradGuardBridge.Hook hook =
                    (GradGuardBridge.Hook) runtime.getConstructor(String.class, Map.class, String.class)
                            .newInstance(agentArgs, systemProperties, djl);
            return new TrainerClassHook(hook, transformer);
        } catch (Throwable t) {
            if (exiting()) {
                // made ahead, while DJL loaded its engine, by a JVM that ended before training: no job to warn
                return null;
            }
            Throwable cause = t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t;
            String why = cause.getClass().getSimpleName().equals("UnsupportedDjlException")
                    ? cause.getMessage()
                    : cause.toString();
            Console.loud(
                    "gradguard could not start: " + why,
                    "The job runs WITHOUT gradguard: no metrics, no clipping, no skipping of NaN steps.");
            return null;
        }
    }

    /** Whether the JVM is exiting: the runtime cannot register its exit work then. */
    private static boolean exiting() {
        Thread probe = new Thread(() -> {}, "gradguard-exit-probe");
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    /** The runtime's hook; each new trainer's class is first shown to the transformer. */
    private static final class TrainerClassHook implements GradGuardBridge.Hook {
        private final GradGuardBridge.Hook runtime;
        private final TrainerTransformer transformer;

        TrainerClassHook(GradGuardBridge.Hook runtime, TrainerTransformer transformer) {
            this.runtime = runtime;
            this.transformer = transformer;
        }

        @Override
        public void trainerCreated(Object trainer) {
            transformer.trainerClassSeen(trainer.getClass());
            runtime.trainerCreated(trainer);
        }

        @Override
        public Object beforeStep(Object trainer, long enteredNanos) {
            return runtime.beforeStep(trainer, enteredNanos);
        }

        @Override
        public void afterStep(Object trainer, boolean bodyThrew, long enteredNanos) {
            runtime.afterStep(trainer, bodyThrew, enteredNanos);
        }

        @Override
        public void collectorCreated(Object trainer, Object collector, long enteredNanos) {
            runtime.collectorCreated(trainer, collector, enteredNanos);
        }

        @Override
        public void backward(Object collector, Object target, long enteredNanos) {
            runtime.backward(collector, target, enteredNanos);
        }

        @Override
        public boolean refuseSave(Object model) {
            return runtime.refuseSave(model);
        }
    }
}
