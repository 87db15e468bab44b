package io.gradguard.agent;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.security.ProtectionDomain;

/**
 * What the agent does once DJL is there: check the {@code Trainer} it found, put the bridge on the
 * bootstrap class path, weave {@code Trainer} and register the transformer for the other classes.
 * At JVM start this waits for DJL's {@code Trainer} to load ({@link DjlClassWatch}); attached to a
 * running JVM it happens at once when {@code Trainer} is already loaded.
 */
final class AgentActivation {

    private final Instrumentation inst;
    private final URL agentJar;
    private final String agentArgs;
    private final String run;

    AgentActivation(Instrumentation inst, URL agentJar, String agentArgs, String run) {
        this.inst = inst;
        this.agentJar = agentJar;
        this.agentArgs = agentArgs;
        this.run = run;
    }

    /** Waits for DJL: from here on every class load passes one name comparison. */
    void watchForDjl() {
        inst.addTransformer(new DjlClassWatch(this), true);
    }

    /** Attached to a running JVM: activates now if DJL's {@code Trainer} is loaded, else waits for it. */
    void attach() throws Exception {
        Class<?> trainer = null;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (TrainerTransformer.TRAINER.equals(c.getName())) {
                trainer = c;
                break;
            }
        }
        if (trainer == null) {
            watchForDjl();
            return;
        }
        byte[] classFile = trainerClassFile(trainer.getClassLoader());
        if (classFile == null || !supported(classFile)) {
            return;
        }
        TrainerTransformer transformer = new TrainerTransformer();
        connectBridge(transformer);
        try {
            transformer.register(inst, TrainerTransformer.loadedTargets(inst, true));
        } catch (Exception | LinkageError e) {
            transformer.unregister();
            throw e;
        }
    }

    void stopWatching(ClassFileTransformer watch) {
        inst.removeTransformer(watch);
    }

    /**
     * DJL's {@code Trainer} is loading (on the calling thread, which holds its class-loading lock).
     *
     * @return its class file with the bridge calls, or null to leave it untouched
     */
    byte[] trainerLoading(ClassLoader loader, ProtectionDomain pd, byte[] classFile) {
        TrainerTransformer transformer = new TrainerTransformer();
        try {
            if (!supported(classFile)) {
                return null;
            }
            connectBridge(transformer);
            byte[] woven = transformer.transform(loader, TrainerTransformer.TRAINER_FILE, null, pd, classFile);
            transformer.register(inst, TrainerTransformer.loadedTargets(inst, false));
            return woven;
        } catch (Throwable t) {
            transformer.unregister();
            System.err.println("[gradguard] could not start, the job runs without it: " + t);
            return null;
        }
    }

    private void connectBridge(TrainerTransformer transformer) throws IOException {
        BootstrapInjector.inject(inst);
        BridgeSetup.install(agentJar, agentArgs, run, transformer);
    }

    private static boolean supported(byte[] trainerClassFile) {
        if (AdviceWeaver.declaresMethod(trainerClassFile, "step", "()V")) {
            return true;
        }
        System.err.println(
                "[gradguard] found nothing to instrument: "
                        + TrainerTransformer.TRAINER
                        + " has no step() in this DJL; gradguard supports "
                        + TrainerTransformer.SUPPORTED
                        + ". The job runs without gradguard.");
        return false;
    }

    private static byte[] trainerClassFile(ClassLoader loader) throws IOException {
        String name = TrainerTransformer.TRAINER_FILE + ".class";
        try (InputStream in = loader == null ? ClassLoader.getSystemResourceAsStream(name) : loader.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        }
    }
}
