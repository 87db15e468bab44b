package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

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
     */
    static void install(URL agentJar, String agentArgs, String run) {
        GradGuardBridge.install(djlLoader -> create(agentJar, djlLoader, agentArgs, run));
    }

    private static GradGuardBridge.Hook create(URL agentJar, ClassLoader djlLoader, String args, String run) {
        try {
            ClassLoader runtimeLoader = new RuntimeClassLoader(agentJar, djlLoader);
            Class<?> runtime = Class.forName(RUNTIME_CLASS, true, runtimeLoader);
            return (GradGuardBridge.Hook) runtime.getConstructor(String.class, String.class).newInstance(args, run);
        } catch (Throwable t) {
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException && t.getCause() != null ? t.getCause() : t;
            String why = cause instanceof NoSuchFieldException ? cause.getMessage() : cause.toString();
            System.err.println("[gradguard] could not start, the job runs without it: " + why);
            return null;
        }
    }
}
