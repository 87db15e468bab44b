package io.gradguard.agent;

import io.gradguard.core.config.ConfigLoader;
import io.gradguard.core.config.ConfigProblem;
import io.gradguard.core.config.ConfigSources;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Part;
import io.gradguard.core.console.Console;
import io.gradguard.core.guard.GradGuardSchema;
import java.io.File;
import java.lang.instrument.Instrumentation;

/**
 * The agent's entry points: {@code -javaagent:gradguard-agent.jar=key=value,...} ({@link #premain})
 * and attaching to a running JVM ({@link #agentmain}).
 *
 * <p>At JVM start this only checks the arguments and registers a watch for DJL's classes; the
 * instrumentation is prepared and installed when DJL loads (see {@link AgentActivation}).
 *
 * <p>Nothing here may stop the job: an unusable setting prints one line and switches off its own
 * part of the agent (a protection setting: loudly, at start and at exit); any other failure prints
 * a banner and the job runs on untouched. The agent never calls {@code System.exit}.
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
            ConfigSources sources =
                    ConfigSources.of(GradGuardSchema.SCHEMA, trimmed, ConfigLoader.systemProperties(), System.getenv());
            GradGuardConfig config = ConfigLoader.loadForStart(GradGuardSchema.SCHEMA, sources);
            reportProblems(config);
            AgentActivation activation =
                    new AgentActivation(inst, agentJar().toURI().toURL(), sources.export(), config.run());
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

    /**
     * One line per unusable setting, naming what goes without it; when that is protection, a
     * banner now and another at exit, so that it cannot pass unnoticed among the JVM's warnings.
     */
    private static void reportProblems(GradGuardConfig config) {
        for (ConfigProblem p : config.problems()) {
            String message = p.message().substring("gradguard: ".length());
            Console.info(message + (p.warning() ? "" : " (" + p.part().consequence() + ")"));
        }
        if (config.protectionAsWrittenFails()) {
            String[] banner = {
                "gradguard is NOT PROTECTING this job as configured: a protection setting could not be used",
                "(said above). Clipping is " + (config.unusable(Part.PROTECTION) ? "OFF" : "not what was asked")
                        + "; metrics still flow. Fix the setting, or set fail_if_unprotected=true to fail such jobs."
            };
            Console.loud(banner);
            Runtime.getRuntime()
                    .addShutdownHook(new Thread(
                            () -> {
                                if (BridgeSetup.protectionRestored()) {
                                    Console.info(
                                            "protection as configured since a config reload mended the setting said at start");
                                } else {
                                    Console.loud(banner);
                                }
                            },
                            "gradguard-unprotected"));
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
