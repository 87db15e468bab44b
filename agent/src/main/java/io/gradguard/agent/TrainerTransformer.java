package io.gradguard.agent;

import io.gradguard.core.console.Console;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides which classes get the bridge calls ({@link AdviceWeaver}): DJL's {@code Trainer} and its
 * subclasses, and every {@code GradientCollector} implementation. Registered when {@code Trainer}
 * loads (or at attach, with retransformation of what is already loaded; the woven code adds no
 * members, so that is allowed).
 *
 * <p>Types are matched by name: a class whose super class or interface is one of these types, by
 * name or as a class already woven in the same loader, is woven without looking further. Otherwise
 * its super types are resolved without initialization, as the JVM does right after this hook
 * anyway; JDK classes and the agent's runtime are never looked at.
 */
final class TrainerTransformer implements ClassFileTransformer {

    static final String TRAINER = "ai.djl.training.Trainer";
    static final String TRAINER_FILE = "ai/djl/training/Trainer";
    static final String GRADIENT_COLLECTOR = "ai.djl.training.GradientCollector";
    static final String GRADIENT_COLLECTOR_FILE = "ai/djl/training/GradientCollector";
    /** Where {@code Model.save} is implemented for every engine: a poisoned model's save is refused there. */
    static final String BASE_MODEL = "ai.djl.BaseModel";

    static final String BASE_MODEL_FILE = "ai/djl/BaseModel";

    private static final List<String> IGNORED =
            List.of("java/", "javax/", "jdk/", "sun/", "com/sun/", "io/gradguard/shaded/");

    /** Internal names of the woven classes, per defining loader. */
    private final Woven wovenTrainers = new Woven();

    private final Woven wovenCollectors = new Woven();
    private final ClassValue<Boolean> chainChecked = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            adviseChain(type);
            return Boolean.TRUE;
        }
    };
    private volatile Instrumentation inst;
    private volatile boolean modelsWoven;

    @Override
    public byte[] transform(
            ClassLoader loader, String className, Class<?> redefined, ProtectionDomain pd, byte[] classFile) {
        if (className == null
                || loader == null
                || loader == ClassLoader.getPlatformClassLoader()
                || loader instanceof RuntimeClassLoader
                || ignored(className)) {
            return null;
        }
        try {
            AdviceWeaver.Advice advice = className.equals(BASE_MODEL_FILE)
                    ? AdviceWeaver.Advice.MODEL
                    : redefined != null ? adviceFor(redefined) : adviceFor(loader, className, classFile);
            if (advice == null) {
                return null;
            }
            byte[] woven = AdviceWeaver.weave(classFile, advice);
            if (woven != null && advice != AdviceWeaver.Advice.MODEL) {
                (advice == AdviceWeaver.Advice.TRAINER ? wovenTrainers : wovenCollectors).add(loader, className);
            }
            return woven;
        } catch (Throwable t) {
            Console.info("could not instrument " + className.replace('/', '.') + " (the job runs on untouched): " + t);
            return null;
        }
    }

    /**
     * Registers this transformer for every class that loads from now on and retransforms the
     * given classes, already loaded.
     */
    void register(Instrumentation instrumentation, List<Class<?>> loaded) throws UnmodifiableClassException {
        inst = instrumentation;
        instrumentation.addTransformer(this, true);
        if (!loaded.isEmpty()) {
            instrumentation.retransformClasses(loaded.toArray(new Class<?>[0]));
        }
    }

    /** Undoes {@link #register} as far as it went. */
    void unregister() {
        Instrumentation i = inst;
        if (i != null) {
            i.removeTransformer(this);
        }
    }

    /**
     * Called once a trainer of the given class exists. A subclass that was loading when its super
     * class was not yet known as a trainer (its loading is what loaded {@code Trainer}, or its
     * parent loaded after it) was not woven; it is retransformed now, before its first step.
     */
    void trainerClassSeen(Class<?> concrete) {
        if (inst != null && !TRAINER.equals(concrete.getName())) {
            chainChecked.get(concrete);
        }
        weaveLoadedModels();
    }

    /**
     * {@code BaseModel} loads before any trainer, and a retransformation asked for while
     * {@code Trainer} itself loads (inside the JVM's class-file hook) does not reach transformers:
     * so it is woven here, once, when the first trainer exists (before any save of a trained model).
     */
    private void weaveLoadedModels() {
        Instrumentation i = inst;
        if (i == null || modelsWoven) {
            return;
        }
        modelsWoven = true;
        List<Class<?>> models = new ArrayList<>();
        for (Class<?> c : i.getAllLoadedClasses()) {
            if (BASE_MODEL.equals(c.getName()) && i.isModifiableClass(c)) {
                models.add(c);
            }
        }
        try {
            if (!models.isEmpty()) {
                i.retransformClasses(models.toArray(new Class<?>[0]));
            }
        } catch (UnmodifiableClassException | RuntimeException | LinkageError e) {
            Console.info("could not instrument " + BASE_MODEL + " (saves of NaN weights are not refused): " + e);
        }
    }

    private void adviseChain(Class<?> concrete) {
        List<Class<?>> missing = new ArrayList<>();
        for (Class<?> c = concrete; c != null && !TRAINER.equals(c.getName()); c = c.getSuperclass()) {
            if (!wovenTrainers.contains(c.getClassLoader(), c.getName().replace('.', '/'))
                    && inst.isModifiableClass(c)) {
                missing.add(c);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        try {
            inst.retransformClasses(missing.toArray(new Class<?>[0]));
        } catch (UnmodifiableClassException | RuntimeException | LinkageError e) {
            Console.info("could not instrument " + concrete.getName() + " (its steps are seen through Trainer.step()): "
                    + e);
        }
    }

    private AdviceWeaver.Advice adviceFor(ClassLoader loader, String className, byte[] classFile) {
        if (className.equals(TRAINER_FILE)) {
            return AdviceWeaver.Advice.TRAINER;
        }
        if (AdviceWeaver.isInterface(classFile)) {
            return null;
        }
        List<String> superTypes = AdviceWeaver.superTypes(classFile);
        for (String s : superTypes) {
            if (s.equals(TRAINER_FILE) || wovenTrainers.contains(loader, s)) {
                return AdviceWeaver.Advice.TRAINER;
            }
            if (s.equals(GRADIENT_COLLECTOR_FILE) || wovenCollectors.contains(loader, s)) {
                return AdviceWeaver.Advice.GRADIENT_COLLECTOR;
            }
        }
        for (String s : superTypes) {
            if (ignored(s)) {
                continue;
            }
            Class<?> type;
            try {
                type = Class.forName(s.replace('/', '.'), false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                continue; // the JVM will report it when it resolves the same type
            }
            AdviceWeaver.Advice advice = adviceFor(type);
            if (advice != null) {
                return advice;
            }
        }
        return null;
    }

    /** What an existing class (or a super type of a loading one) gets, judged by type names. */
    private static AdviceWeaver.Advice adviceFor(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (TRAINER.equals(c.getName())) {
                return type.isInterface() ? null : AdviceWeaver.Advice.TRAINER;
            }
        }
        return implementsByName(type, GRADIENT_COLLECTOR) ? AdviceWeaver.Advice.GRADIENT_COLLECTOR : null;
    }

    /** Whether the type is, extends or implements (at any depth) a type of that name; interfaces count as themselves. */
    private static boolean implementsByName(Class<?> type, String name) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if (name.equals(c.getName())) {
                return true;
            }
            for (Class<?> i : c.getInterfaces()) {
                if (implementsByName(i, name)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * The loaded classes the transformer must retransform: {@code BaseModel} (loaded before any
     * trainer), {@code GradientCollector} implementations, and when {@code withTrainers}, {@code
     * Trainer} and its subclasses.
     */
    static List<Class<?>> loadedTargets(Instrumentation inst, boolean withTrainers) {
        Class<?>[] all = inst.getAllLoadedClasses();
        List<Class<?>> roots = new ArrayList<>(2); // by name: every DJL copy's, each in its own loader
        for (Class<?> c : all) {
            String name = c.getName();
            if (GRADIENT_COLLECTOR.equals(name) || withTrainers && TRAINER.equals(name)) {
                roots.add(c);
            }
        }
        List<Class<?>> targets = new ArrayList<>();
        for (Class<?> c : all) {
            if (BASE_MODEL.equals(c.getName()) && inst.isModifiableClass(c)) {
                targets.add(c);
            }
        }
        if (roots.isEmpty()) {
            return targets;
        }
        for (Class<?> c : all) {
            if (c.isInterface() || c.isArray() || c.getClassLoader() == null) {
                continue;
            }
            for (Class<?> root : roots) {
                if (root.isAssignableFrom(c) && inst.isModifiableClass(c)) {
                    targets.add(c);
                    break;
                }
            }
        }
        return targets;
    }

    private static boolean ignored(String internalName) {
        for (String prefix : IGNORED) {
            if (internalName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /** Class names per loader; a loader that is collected takes its names along. */
    private static final class Woven {
        private final Map<ClassLoader, Set<String>> names = Collections.synchronizedMap(new WeakHashMap<>());

        void add(ClassLoader loader, String internalName) {
            names.computeIfAbsent(loader, l -> ConcurrentHashMap.newKeySet()).add(internalName);
        }

        boolean contains(ClassLoader loader, String internalName) {
            Set<String> s = names.get(loader);
            return s != null && s.contains(internalName);
        }
    }
}
