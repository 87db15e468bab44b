package io.gradguard.agent;

import io.gradguard.core.console.Console;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.security.ProtectionDomain;
import java.util.List;
import java.util.Map;

/**
 * What the agent does once DJL is there: check the DJL it found ({@link DjlCompatibility}), put the bridge on the
 * bootstrap class path, weave {@code Trainer} and register the transformer for the other classes.
 * At JVM start this waits for DJL's {@code Trainer} to load ({@link DjlClassWatch}); attached to a
 * running JVM it happens at once when {@code Trainer} is already loaded.
 */
final class AgentActivation {

    private final Instrumentation inst;
    private final URL agentJar;
    private final Map<String, List<String>> sources;
    private final String run;

    /** @param sources the settings read at start, in JDK types, for the runtime */
    AgentActivation(Instrumentation inst, URL agentJar, Map<String, List<String>> sources, String run) {
        this.inst = inst;
        this.agentJar = agentJar;
        this.sources = sources;
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
        if (classFile == null) {
            Console.info("cannot read the class file of " + TrainerTransformer.TRAINER
                    + " from its class loader; the job runs without gradguard");
            return;
        }
        DjlCompatibility.Verdict djl =
                DjlCompatibility.check(trainer.getClassLoader(), trainer.getProtectionDomain(), classFile);
        if (!supported(djl)) {
            return;
        }
        TrainerTransformer transformer = new TrainerTransformer();
        connectBridge(transformer, djl);
        try {
            transformer.register(inst, TrainerTransformer.loadedTargets(inst, true));
        } catch (Exception | LinkageError e) {
            transformer.unregister();
            throw e;
        }
        BridgeSetup.prepare(trainer.getClassLoader());
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
            DjlCompatibility.Verdict djl = DjlCompatibility.check(loader, pd, classFile);
            if (!supported(djl)) {
                return null;
            }
            connectBridge(transformer, djl);
            byte[] woven = transformer.transform(loader, TrainerTransformer.TRAINER_FILE, null, pd, classFile);
            transformer.register(inst, TrainerTransformer.loadedTargets(inst, false));
            // made beside whatever the job does between loading Trainer and making its first trainer
            BridgeSetup.prepare(loader);
            return woven;
        } catch (Throwable t) {
            transformer.unregister();
            Console.info("could not start, the job runs without it: " + t);
            return null;
        }
    }

    private void connectBridge(TrainerTransformer transformer, DjlCompatibility.Verdict djl) throws IOException {
        BootstrapInjector.inject(inst);
        BridgeSetup.install(agentJar, sources, run, djl.message(), transformer);
    }

    private static boolean supported(DjlCompatibility.Verdict djl) {
        if (!djl.supported()) {
            // the verdict's message is a whole line, prefix included
            System.err.println(djl.message());
        }
        return djl.supported();
    }

    private static byte[] trainerClassFile(ClassLoader loader) throws IOException {
        String name = TrainerTransformer.TRAINER_FILE + ".class";
        try (InputStream in =
                loader == null ? ClassLoader.getSystemResourceAsStream(name) : loader.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        }
    }
}
