package io.gradguard.agent;

import io.gradguard.core.console.Console;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.security.ProtectionDomain;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * What the agent does once DJL is there: check the DJL it found ({@link DjlCompatibility}), put the bridge on the
 * bootstrap class path, weave {@code Trainer} and register the transformer for the other classes.
 * At JVM start the checks and the bridge begin when DJL's {@code Engine} loads, on a thread of their
 * own, and {@code Trainer} is woven when it loads ({@link DjlClassWatch}); attached to a running JVM
 * it happens at once when {@code Trainer} is already loaded.
 */
final class AgentActivation {

    private final Instrumentation inst;
    private final URL agentJar;
    private final String agentArgs;
    private final Map<String, String> systemProperties;
    /** Set when DJL's engine loaded first: what was started for its loader then. */
    private volatile Early early;

    /**
     * What the checks started at the engine's load decided.
     *
     * @param decided false where they could not run here ({@code Trainer}'s class file could not be
     *     read from the engine's loader): {@code Trainer}'s own load then does it all
     * @param transformer the bridge's transformer, to register when {@code Trainer} loads; null when
     *     the DJL found is not supported or the bridge could not be connected (said then)
     */
    private record Checked(boolean decided, TrainerTransformer transformer) {
        static final Checked NOT_HERE = new Checked(false, null);
        static final Checked REFUSED = new Checked(true, null);
    }

    /** The checks and the bridge started when DJL's engine loaded, for its loader. */
    private record Early(ClassLoader loader, FutureTask<Checked> checked) {

        /** Waits for the checks; the caller's interrupt is kept for it. */
        Checked outcome() {
            boolean interrupted = false;
            try {
                while (true) {
                    try {
                        return checked.get();
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } catch (ExecutionException e) {
                return Checked.REFUSED; // the task said why
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * @param agentArgs the agent's arguments, trimmed
     * @param systemProperties the system properties at start, where settings may be too
     */
    AgentActivation(Instrumentation inst, URL agentJar, String agentArgs, Map<String, String> systemProperties) {
        this.inst = inst;
        this.agentJar = agentJar;
        this.agentArgs = agentArgs;
        this.systemProperties = systemProperties;
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

    /**
     * DJL's engine is loading, before any trainer: the checks, the bridge and the runtime start
     * now on a thread of their own, beside the engine's loading of its native library, instead of
     * on the thread that makes the first trainer. Where {@code Trainer}'s class file cannot be read
     * from this loader, everything waits for its load.
     */
    void djlLoading(ClassLoader loader, ProtectionDomain pd) {
        FutureTask<Checked> checked = new FutureTask<>(() -> check(loader, pd));
        early = new Early(loader, checked);
        Thread t = new Thread(checked, "gradguard-check");
        t.setDaemon(true);
        t.start();
    }

    private Checked check(ClassLoader loader, ProtectionDomain pd) {
        try {
            byte[] trainer = trainerClassFile(loader);
            if (trainer == null) {
                return Checked.NOT_HERE;
            }
            DjlCompatibility.Verdict djl = DjlCompatibility.check(loader, pd, trainer);
            if (!supported(djl)) {
                return Checked.REFUSED;
            }
            TrainerTransformer transformer = new TrainerTransformer();
            connectBridge(transformer, djl);
            BridgeSetup.prepare(loader);
            return new Checked(true, transformer);
        } catch (Throwable t) {
            Console.info("could not start, the job runs without it: " + t);
            return Checked.REFUSED;
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
        Early started = early;
        Checked checked = started == null ? Checked.NOT_HERE : started.outcome();
        TrainerTransformer bridged = checked.transformer();
        if (checked.decided() && started.loader() == loader) {
            return bridged == null ? null : weave(bridged, loader, pd, classFile);
        }
        // Another loader's engine came first: its bridge serves this DJL too, once this one is checked.
        TrainerTransformer transformer = bridged != null ? bridged : new TrainerTransformer();
        try {
            DjlCompatibility.Verdict djl = DjlCompatibility.check(loader, pd, classFile);
            if (!supported(djl)) {
                return null;
            }
            if (bridged == null) {
                connectBridge(transformer, djl);
            }
        } catch (Throwable t) {
            Console.info("could not start, the job runs without it: " + t);
            return null;
        }
        return weave(transformer, loader, pd, classFile);
    }

    /** Weaves {@code Trainer} and registers the transformer for the other classes; null leaves it untouched. */
    private byte[] weave(TrainerTransformer transformer, ClassLoader loader, ProtectionDomain pd, byte[] classFile) {
        try {
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
        BridgeSetup.install(agentJar, agentArgs, systemProperties, djl.message(), transformer);
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
