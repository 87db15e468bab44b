package io.gradguard.agent;

import io.gradguard.core.config.ConfigLoader;
import io.gradguard.core.console.Console;
import io.gradguard.core.guard.GradGuardSchema;
import java.io.File;
import java.lang.instrument.Instrumentation;

/**
 * The agent's entry points: {@code -javaagent:gradguard-agent.jar=key=value,...} ({@link #premain})
 * and attaching to a running JVM ({@link #agentmain}).
 *
 * <p>At JVM start this only keeps the arguments and the system properties and registers a watch
 * for DJL's classes: the settings are read and checked, and the instrumentation is prepared and
 * installed, when DJL loads (see {@link AgentActivation}), so that a JVM that never loads DJL pays
 * for none of it.
 *
 * <p>Nothing here may stop the job: an unusable setting prints one line and switches off its own
 * part of the agent (a protection setting: loudly, when DJL loads and at exit); any other failure
 * prints a banner and the job runs on untouched. The agent never calls {@code System.exit}.
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
                // the key table the user asked for, not a log line: printed without the prefix
                System.err.println(GradGuardSchema.SCHEMA.helpText());
                return;
            }
            if (installed) {
                Console.info("already installed in this JVM; ignoring the second agent");
                return;
            }
            AgentActivation activation =
                    new AgentActivation(inst, agentJar().toURI().toURL(), trimmed, ConfigLoader.systemProperties());
            if (attached) {
                activation.attach();
            } else {
                activation.watchForDjl();
            }
            installed = true;
        } catch (Throwable t) {
            Console.loud("gradguard could not start: " + t, "The job runs WITHOUT gradguard: no metrics, no clipping.");
        }
    }

    private static File agentJar() throws Exception {
        return new File(GradGuardAgent.class
                .getProtectionDomain()
                .getCodeSource()
                .getLocation()
                .toURI());
    }
}
