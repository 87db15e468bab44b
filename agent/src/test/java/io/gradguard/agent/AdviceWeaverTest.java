package io.gradguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.bootstrap.GradGuardBridge;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The woven bytecode passes the JVM's verifier and calls the bridge as the advice contract says:
 * constructors report the trainer, {@code step()} runs between {@code beforeStep} and {@code
 * afterStep} (also when it throws, and not at all when the runtime says skip), and {@code
 * backward(target)} reports its argument when it returns. Stand-in classes with awkward method
 * shapes (a loop at the first instruction, early returns, try/finally, monitors) are compiled here
 * and loaded through a class loader that weaves them, so the verifier checks every frame.
 */
class AdviceWeaverTest {

    private static final String STANDIN_TRAINER = "package ai.djl.training; public class Trainer {"
            + " public int steps; public int pending; public boolean fail; public int mode;"
            + " public Trainer() {}"
            + " public Trainer(int pending) { this(); this.pending = pending; }"
            + " public void step() {"
            + "   do { pending--; } while (pending > 0);" // back edge to the first instruction
            + "   if (fail) throw new IllegalStateException(\"body failed\");"
            + "   if (mode == 1) { steps += 10; return; }"
            + "   if (mode == 3) { try { throw new IllegalArgumentException(); }" // the method's own handler comes
            // first
            + "     catch (IllegalArgumentException e) { steps += 1000; return; } }"
            + "   try { synchronized (this) { if (mode == 2) return; steps++; } } finally { steps += 100; }"
            + " }"
            + " public ai.djl.training.GradientCollector newGradientCollector() {"
            + "   if (mode == 4) { job.Collector c = new job.Collector(); c.calls = 7; return c; }" // two returns
            + "   return new job.Collector(); } }";
    private static final String STANDIN_SUBCLASS =
            "package job; public class CountingTrainer extends ai.djl.training.Trainer {"
                    + " public int outer; public CountingTrainer() { super(0); }"
                    + " @Override public void step() { outer++; super.step(); } }";
    private static final String STANDIN_COLLECTOR_API =
            "package ai.djl.training; public interface GradientCollector { void backward(Object target); }";
    private static final String STANDIN_COLLECTOR =
            "package job; public class Collector implements ai.djl.training.GradientCollector {"
                    + " public int calls;"
                    + " public void backward(Object target) { calls++; if (target == null) throw new IllegalArgumentException(); if (\"early\".equals(target)) return; calls++; } }";

    private static final String STANDIN_MODEL = "package ai.djl; public class BaseModel { public int saved;"
            + " public void save(java.nio.file.Path path, String name) { if (path == null) { saved += 10; return; }"
            + " saved++; } }";

    private static ClassLoader standIns;
    private static final RecordingHook HOOK = new RecordingHook();

    /** Records the bridge's calls; {@link #decision} is what the next beforeStep returns. */
    static final class RecordingHook implements GradGuardBridge.Hook {
        final List<String> calls = new ArrayList<>();
        Object decision;
        boolean refuse;

        @Override
        public void trainerCreated(Object trainer) {
            calls.add("created " + trainer.getClass().getSimpleName());
        }

        @Override
        public Object beforeStep(Object trainer, long enteredNanos) {
            calls.add("before");
            return decision;
        }

        @Override
        public void afterStep(Object trainer, boolean bodyThrew, long enteredNanos) {
            Object d = decision;
            calls.add(
                    "after " + (d == null ? (bodyThrew ? "threw" : "run") : d instanceof Throwable ? "fail" : "skip"));
        }

        @Override
        public void collectorCreated(Object trainer, Object collector, long enteredNanos) {
            calls.add("collector "
                    + (collector == null ? "null" : collector.getClass().getSimpleName()) + " of "
                    + trainer.getClass().getSimpleName());
        }

        @Override
        public boolean refuseSave(Object model) {
            calls.add("save " + (refuse ? "refused" : "allowed"));
            return refuse;
        }

        @Override
        public void backward(Object collector, Object target, long enteredNanos) {
            calls.add("backward " + target + " on " + collector.getClass().getSimpleName());
        }
    }

    @BeforeAll
    static void compileStandIns() throws IOException {
        Path dir = Files.createTempDirectory("gradguard-weaver");
        Map<String, String> sources = Map.of(
                "ai/djl/training/Trainer.java", STANDIN_TRAINER,
                "job/CountingTrainer.java", STANDIN_SUBCLASS,
                "ai/djl/training/GradientCollector.java", STANDIN_COLLECTOR_API,
                "job/Collector.java", STANDIN_COLLECTOR,
                "ai/djl/BaseModel.java", STANDIN_MODEL);
        List<String> args = new ArrayList<>(List.of("-d", dir.resolve("classes").toString()));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path src = dir.resolve("src").resolve(e.getKey());
            Files.createDirectories(src.getParent());
            Files.writeString(src, e.getValue());
            args.add(src.toString());
        }
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, args.toArray(new String[0])));
        Path classes = dir.resolve("classes");
        standIns = new WeavingLoader(
                AdviceWeaverTest.class.getClassLoader(),
                Map.of(
                        "ai.djl.training.Trainer", AdviceWeaver.Advice.TRAINER,
                        "job.CountingTrainer", AdviceWeaver.Advice.TRAINER,
                        "job.Collector", AdviceWeaver.Advice.GRADIENT_COLLECTOR,
                        "ai.djl.BaseModel", AdviceWeaver.Advice.MODEL),
                classes);
        GradGuardBridge.install(loader -> HOOK);
    }

    @BeforeEach
    void reset() {
        HOOK.calls.clear();
        HOOK.decision = null;
    }

    @Test
    void everyConstructorReportsTheTrainer() throws Exception {
        Object t = standIns.loadClass("ai.djl.training.Trainer")
                .getConstructor(int.class)
                .newInstance(3);
        // Trainer(int) delegates to Trainer(): both constructors end, both report
        assertEquals(List.of("created Trainer", "created Trainer"), HOOK.calls);
        assertEquals(3, field(t, "pending"));
    }

    @Test
    void stepRunsBetweenBeforeAndAfterOnEveryReturnAndKeepsItsOwnHandlers() throws Exception {
        for (int mode : new int[] {0, 1, 2, 3}) {
            Object t = trainer();
            set(t, "mode", mode);
            HOOK.calls.clear();
            call(t, "step");
            assertEquals(List.of("before", "after run"), HOOK.calls, "mode " + mode);
            assertEquals(new int[] {101, 10, 100, 1000}[mode], field(t, "steps"), "mode " + mode);
        }
    }

    @Test
    void aSkipDecisionSkipsTheBodyButNotTheAfterStep() throws Exception {
        Object t = trainer();
        HOOK.decision = Boolean.TRUE;
        call(t, "step");
        assertEquals(List.of("before", "after skip"), HOOK.calls);
        assertEquals(0, field(t, "steps"));
    }

    @Test
    void aFailureDecisionIsThrownIntoTheJob() throws Exception {
        Object t = trainer();
        IllegalStateException asked = new IllegalStateException("non-finite gradients");
        HOOK.decision = asked;
        InvocationTargetException e = assertThrows(InvocationTargetException.class, () -> call(t, "step"));
        assertSame(asked, e.getCause());
        assertEquals(List.of("before", "after fail"), HOOK.calls);
        assertEquals(0, field(t, "steps"));
    }

    @Test
    void aThrowingBodyStillGetsItsAfterStepAndItsExceptionGoesOn() throws Exception {
        Object t = trainer();
        set(t, "fail", true);
        InvocationTargetException e = assertThrows(InvocationTargetException.class, () -> call(t, "step"));
        assertEquals("body failed", e.getCause().getMessage());
        assertEquals(List.of("before", "after threw"), HOOK.calls, "the runtime is told DJL's own step threw");
        // the next step is counted normally: the bridge's nesting depth went back to zero
        set(t, "fail", false);
        HOOK.calls.clear();
        call(t, "step");
        assertEquals(List.of("before", "after run"), HOOK.calls);
    }

    @Test
    void aSubclassCallingSuperStepIsSeenOnceAtItsOwnEntry() throws Exception {
        Object t = standIns.loadClass("job.CountingTrainer").getConstructor().newInstance();
        HOOK.calls.clear();
        call(t, "step");
        assertEquals(List.of("before", "after run"), HOOK.calls);
        assertEquals(1, field(t, "outer"));
        HOOK.decision = Boolean.TRUE; // skipped at the outermost step(): the subclass's own body does not run either
        HOOK.calls.clear();
        call(t, "step");
        assertEquals(1, field(t, "outer"));
        assertEquals(List.of("before", "after skip"), HOOK.calls);
    }

    /** A refused save does not run the method's body; an allowed one runs it on every path. */
    @Test
    void saveRunsOnlyWhenTheBridgeAllowsIt() throws Exception {
        Object m = standIns.loadClass("ai.djl.BaseModel").getConstructor().newInstance();
        var save = m.getClass().getMethod("save", java.nio.file.Path.class, String.class);
        HOOK.calls.clear();
        save.invoke(m, Path.of("x"), "m");
        save.invoke(m, null, "m");
        HOOK.refuse = true;
        save.invoke(m, Path.of("x"), "m");
        HOOK.refuse = false;
        assertEquals(11, field(m, "saved"));
        assertEquals(List.of("save allowed", "save allowed", "save refused"), HOOK.calls);
    }

    /** The collector a trainer makes is reported with the trainer, so its losses can be routed to it. */
    @Test
    void newGradientCollectorReportsTheCollectorItReturns() throws Exception {
        Object t = trainer();
        HOOK.calls.clear();
        Object collector = t.getClass().getMethod("newGradientCollector").invoke(t);
        assertEquals("Collector", collector.getClass().getSimpleName(), "the returned value is untouched");
        set(t, "mode", 4);
        assertEquals(7, field(t.getClass().getMethod("newGradientCollector").invoke(t), "calls"));
        assertEquals(List.of("collector Collector of Trainer", "collector Collector of Trainer"), HOOK.calls);
    }

    @Test
    void backwardReportsItsTargetOnEveryNormalReturnOnly() throws Exception {
        Object c = standIns.loadClass("job.Collector").getConstructor().newInstance();
        var backward = c.getClass().getMethod("backward", Object.class);
        backward.invoke(c, "loss");
        backward.invoke(c, "early");
        assertThrows(InvocationTargetException.class, () -> backward.invoke(c, (Object) null));
        assertEquals(List.of("backward loss on Collector", "backward early on Collector"), HOOK.calls);
        assertEquals(4, field(c, "calls"));
    }

    @Test
    void djlsOwnClassesPassTheVerifierWhenWoven() throws Exception {
        ClassLoader app = AdviceWeaverTest.class.getClassLoader();
        ClassLoader djl = new WeavingLoader(
                app,
                Map.of(
                        "ai.djl.training.Trainer", AdviceWeaver.Advice.TRAINER,
                        "ai.djl.pytorch.engine.PtGradientCollector", AdviceWeaver.Advice.GRADIENT_COLLECTOR),
                null);
        for (String name : List.of("ai.djl.training.Trainer", "ai.djl.pytorch.engine.PtGradientCollector")) {
            Class<?> c = Class.forName(name, true, djl); // initializing links, linking verifies
            assertSame(djl, c.getClassLoader(), name);
        }
    }

    @Test
    void classesWithoutAdvisedMethodsAreLeftAlone() throws IOException {
        try (InputStream in = AdviceWeaverTest.class.getResourceAsStream("/ai/djl/training/ParameterStore.class")) {
            assertNotNull(in);
            assertNull(AdviceWeaver.weave(in.readAllBytes(), AdviceWeaver.Advice.GRADIENT_COLLECTOR));
        }
    }

    private static Object trainer() throws Exception {
        Object t =
                standIns.loadClass("ai.djl.training.Trainer").getConstructor().newInstance();
        HOOK.calls.clear();
        assertTrue(t.getClass().getClassLoader() == standIns);
        return t;
    }

    private static void call(Object target, String method) throws Exception {
        target.getClass().getMethod(method).invoke(target);
    }

    private static int field(Object target, String name) throws ReflectiveOperationException {
        return target.getClass().getField(name).getInt(target);
    }

    private static void set(Object target, String name, Object value) throws ReflectiveOperationException {
        target.getClass().getField(name).set(target, value);
    }

    /**
     * Defines the named classes itself, woven, from {@code dir} (or from the parent's resources when
     * null); any other stand-in in {@code dir} is defined as it is; the rest comes from the parent.
     */
    static final class WeavingLoader extends ClassLoader {
        private final Map<String, AdviceWeaver.Advice> woven;
        private final Path dir;

        WeavingLoader(ClassLoader parent, Map<String, AdviceWeaver.Advice> woven, Path dir) {
            super("weaving", parent);
            this.woven = woven;
            this.dir = dir;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c != null) {
                    return c;
                }
                String file = name.replace('.', '/') + ".class";
                Path own = dir == null ? null : dir.resolve(file);
                if (!woven.containsKey(name) && (own == null || !Files.isRegularFile(own))) {
                    return super.loadClass(name, resolve);
                }
                try {
                    byte[] bytes;
                    if (own != null) {
                        bytes = Files.readAllBytes(own);
                    } else {
                        try (InputStream in = getParent().getResourceAsStream(file)) {
                            bytes = in.readAllBytes();
                        }
                    }
                    if (woven.containsKey(name)) {
                        byte[] w = AdviceWeaver.weave(bytes, woven.get(name));
                        assertNotNull(w, name + " has something to advise");
                        bytes = w;
                    }
                    return defineClass(name, bytes, 0, bytes.length);
                } catch (IOException e) {
                    throw new ClassNotFoundException(name, e);
                }
            }
        }
    }
}
