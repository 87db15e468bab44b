package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

import java.lang.reflect.InvocationTargetException;
import java.net.URL;

/**
 * Connects the bootstrap bridge to a runtime created on demand for DJL's class loader. Kept apart
 * from {@link GradGuardAgent} so that no bridge class is touched before it is on the bootstrap path.
 */
final class BridgeSetup {

    static final String RUNTIME_CLASS = "io.gradguard.agent.runtime.AgentRuntime";

    private BridgeSetup() {}

    /**
     * @param agentArgs the agent arguments, re-read by the runtime in its own loader
     * @param run the run id resolved at start (possibly generated), so both reads agree
     * @param djl how the start line names the DJL it found
     * @param transformer told about each trainer's class, for subclasses that loaded before it knew them
     */
    static void install(URL agentJar, String agentArgs, String run, String djl, TrainerTransformer transformer) {
        GradGuardBridge.install(djlLoader -> create(agentJar, djlLoader, agentArgs, run, djl, transformer));
    }

    private static GradGuardBridge.Hook create(
            URL agentJar, ClassLoader djlLoader, String args, String run, String djl, TrainerTransformer transformer) {
        try {
            ClassLoader runtimeLoader = new RuntimeClassLoader(agentJar, djlLoader);
            Class<?> runtime = Class.forName(RUNTIME_CLASS, true, runtimeLoader);
            GradGuardBridge.Hook hook =
                    (GradGuardBridge.Hook) runtime.getConstructor(String.class, String.class, String.class).newInstance(args, run, djl);
            return new TrainerClassHook(hook, transformer);
        } catch (Throwable t) {
            Throwable cause = t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t;
            String why = cause instanceof NoSuchFieldException ? cause.getMessage() : cause.toString();
            System.err.println("[gradguard] could not start, the job runs without it: " + why);
            return null;
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
        public Object beforeStep(Object trainer) {
            return runtime.beforeStep(trainer);
        }

        @Override
        public void afterStep(Object trainer, Object decision) {
            runtime.afterStep(trainer, decision);
        }

        @Override
        public void backward(Object target) {
            runtime.backward(target);
        }
    }
}
