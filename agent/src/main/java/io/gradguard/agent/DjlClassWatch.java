package io.gradguard.agent;

import io.gradguard.core.console.Console;
import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The only thing the agent installs at JVM start: a transformer that compares the name of each
 * class as it loads and does nothing else until DJL loads. DJL's {@code Engine}, which every job
 * loads before it can make a trainer, starts the agent's preparation (its checks, its bridge and its
 * runtime, on a thread of its own) while the engine loads its native library; {@code Trainer}'s
 * load activates the agent and removes this watch. A JVM that never loads DJL pays a string
 * comparison per class.
 *
 * <p>It is registered as able to retransform, like the transformer it hands over to, so that one
 * registered while {@code Trainer} loads is not also called for {@code Trainer}.
 */
final class DjlClassWatch implements ClassFileTransformer {

    /** DJL's engine class: loaded by every job before its first trainer, from the jar that holds {@code Trainer}. */
    static final String ENGINE_FILE = "ai/djl/engine/Engine";

    private final AgentActivation activation;
    private final AtomicBoolean engineSeen = new AtomicBoolean();
    private final AtomicBoolean trainerSeen = new AtomicBoolean();

    DjlClassWatch(AgentActivation activation) {
        this.activation = activation;
    }

    @Override
    public byte[] transform(
            ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd, byte[] classFile) {
        if (redefined != null) {
            return null;
        }
        try {
            if (ENGINE_FILE.equals(className)) {
                if (engineSeen.compareAndSet(false, true)) {
                    activation.djlLoading(loader, pd);
                }
                return null;
            }
            if (TrainerTransformer.TRAINER_FILE.equals(className) && trainerSeen.compareAndSet(false, true)) {
                activation.stopWatching(this);
                return activation.trainerLoading(loader, pd, classFile);
            }
        } catch (Throwable t) {
            Console.info("could not start, the job runs without it: " + t);
        }
        return null;
    }
}
