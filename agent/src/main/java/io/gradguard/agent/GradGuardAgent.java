package io.gradguard.agent;

import io.gradguard.core.config.ConfigException;
import io.gradguard.core.config.ConfigLoader;
import io.gradguard.core.config.GradGuardConfig;

import java.io.File;
import java.lang.instrument.Instrumentation;

/**
 * The agent's entry points: {@code -javaagent:gradguard-agent.jar=key=value,...} ({@link #premain})
 * and attaching to a running JVM ({@link #agentmain}).
 *
 * <p>At JVM start this only checks the arguments and registers a watch for DJL's classes; the
 * instrumentation is prepared and installed when DJL loads (see {@link AgentActivation}).
 *
 * <p>Nothing here may stop the job: bad arguments print one line and the agent does not install;
 * any other failure prints one line and the job runs on untouched. The agent never calls {@code
 * System.exit}.
 */
public final class GradGuardAgent {

    private static volatile boolean installed;

    private GradGuardAgent() {}

    /**
     * Entry point of {@code -javaagent}.
     *
     * @param args the agent arguments
     * @param inst the JVM's instrumentation
     */
    public static void premain(String args, Instrumentation inst) {
        start(args, inst, false);
    }

    /**
     * Entry point when attached to a running JVM.
     *
     * @param args the agent arguments
     * @param inst the JVM's instrumentation
     */
    public static void agentmain(String args, Instrumentation inst) {
        start(args, inst, true);
    }

    private static void start(String args, Instrumentation inst, boolean attached) {
        try {
            String trimmed = args == null ? "" : args.trim();
            if (ConfigLoader.isHelp(trimmed)) {
                System.err.println(ConfigLoader.helpText());
                return;
            }
            if (installed) {
                System.err.println("[gradguard] already installed in this JVM; ignoring the second agent");
                return;
            }
            GradGuardConfig config;
            try {
                config = ConfigLoader.load(trimmed, ConfigLoader.systemProperties(), System.getenv());
            } catch (ConfigException e) {
                System.err.println(e.getMessage() + " (gradguard is not installed; the job runs without it)");
                return;
            }
            AgentActivation activation = new AgentActivation(inst, agentJar().toURI().toURL(), trimmed, config.run());
            if (attached) {
                activation.attach();
            } else {
                activation.watchForDjl();
            }
            installed = true;
        } catch (Throwable t) {
            System.err.println("[gradguard] could not start, the job runs without it: " + t);
        }
    }

    private static File agentJar() throws Exception {
        return new File(GradGuardAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }
}
