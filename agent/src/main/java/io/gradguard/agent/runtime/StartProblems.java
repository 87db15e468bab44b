package io.gradguard.agent.runtime;

import io.gradguard.bootstrap.GradGuardBridge;
import io.gradguard.core.config.ConfigProblem;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Part;
import io.gradguard.core.console.Console;

/**
 * What the settings read at start cannot do: one line per unusable setting, naming what goes
 * without it; when that is protection, a banner now and another at exit, so that it cannot pass
 * unnoticed among the JVM's warnings.
 */
final class StartProblems {

    private StartProblems() {}

    static void say(GradGuardConfig config) {
        for (ConfigProblem p : config.problems()) {
            String message = p.message().substring("gradguard: ".length());
            Console.info(message + (p.warning() ? "" : " (" + p.part().consequence() + ")"));
        }
        if (!config.protectionAsWrittenFails()) {
            return;
        }
        String[] banner = {
            "gradguard is NOT PROTECTING this job as configured: a protection setting could not be used",
            "(said above). Clipping is " + (config.unusable(Part.PROTECTION) ? "OFF" : "not what was asked")
                    + "; metrics still flow. Fix the setting, or set fail_if_unprotected=true to fail such jobs."
        };
        Console.loud(banner);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            if (GradGuardBridge.isProtectionRestored()) {
                                Console.info(
                                        "protection as configured since a config reload mended the setting said at start");
                            } else {
                                Console.loud(banner);
                            }
                        },
                        "gradguard-unprotected"));
    }
}
