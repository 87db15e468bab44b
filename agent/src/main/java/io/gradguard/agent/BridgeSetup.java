package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

import io.gradguard.core.console.Console;

import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.util.List;
import java.util.Map;

/**
 * Connects the bootstrap bridge to a runtime created on demand for DJL's class loader. Kept apart
 * from {@link GradGuardAgent} so that no bridge class is touched before it is on the bootstrap path.
 */
final class BridgeSetup {

    static final String RUNTIME_CLASS = "io.gradguard.agent.runtime.AgentRuntime";

    private BridgeSetup() {}

    /**
     * @param sources the settings read at start, in JDK types, handed to the runtime's loader
     * @param run the run id resolved at start (possibly generated), so both sides agree
     */
    static void install(URL agentJar, Map<String, List<String>> sources, String run) {
        GradGuardBridge.install(djlLoader -> create(agentJar, djlLoader, sources, run));
    }

    /** Whether a config reload has since mended the protection setting said at start. */
    static boolean protectionRestored() {
        return GradGuardBridge.isProtectionRestored();
    }

    private static GradGuardBridge.Hook create(
            URL agentJar, ClassLoader djlLoader, Map<String, List<String>> sources, String run) {
        try {
            ClassLoader runtimeLoader = new RuntimeClassLoader(agentJar, djlLoader);
            Class<?> runtime = Class.forName(RUNTIME_CLASS, true, runtimeLoader);
            return (GradGuardBridge.Hook) runtime.getConstructor(Map.class, String.class).newInstance(sources, run);
        } catch (Throwable t) {
            Throwable cause = t instanceof InvocationTargetException && t.getCause() != null ? t.getCause() : t;
            String why = cause.getClass().getSimpleName().equals("UnsupportedDjlException")
                    ? cause.getMessage() : cause.toString();
            Console.loud("gradguard could not start: " + why,
                    "The job runs WITHOUT gradguard: no metrics, no clipping, no skipping of NaN steps.");
            return null;
        }
    }
}
