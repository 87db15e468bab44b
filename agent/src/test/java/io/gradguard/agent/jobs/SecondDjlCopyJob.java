package io.gradguard.agent.jobs;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;

/**
 * A job with two copies of DJL: the real one trains (the agent binds to it), then a second copy,
 * here a stand-in {@code ai.djl.training.Trainer} in its own class loader, steps five times.
 *
 * <p>Arguments: the folder holding the stand-in's classes.
 */
public final class SecondDjlCopyJob {

    private SecondDjlCopyJob() {}

    public static void main(String[] args) throws Exception {
        TinyTrainingJob.main(new String[] {"20", "0.05"});
        try (URLClassLoader second =
                new URLClassLoader(new URL[] {Path.of(args[0]).toUri().toURL()}, null)) {
            Class<?> trainer = second.loadClass("ai.djl.training.Trainer");
            Object t = trainer.getConstructor().newInstance();
            for (int i = 0; i < 5; i++) {
                trainer.getMethod("step").invoke(t);
            }
            System.out.println("second copy steps=" + trainer.getField("steps").get(t));
        }
        System.out.println("job done");
    }
}
