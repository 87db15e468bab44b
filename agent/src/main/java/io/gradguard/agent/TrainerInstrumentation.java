package io.gradguard.agent;

import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isConstructor;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.nameStartsWith;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.description.method.MethodDescription;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;

/**
 * Where the advice goes. Types are matched by name so that nothing of DJL loads early, and the
 * agent also works when attached after DJL was loaded (retransformation, no new members).
 */
final class TrainerInstrumentation {

    static final String TRAINER = "ai.djl.training.Trainer";
    static final String GRADIENT_COLLECTOR = "ai.djl.training.GradientCollector";
    static final String SUPPORTED = io.gradguard.core.djl.SupportedDjl.RANGE;

    private static final ElementMatcher<MethodDescription> STEP = named("step").and(takesArguments(0));
    private static final ElementMatcher<MethodDescription> BACKWARD = named("backward").and(takesArguments(1));
    private static final ElementMatcher<MethodDescription> NEW_COLLECTOR =
            named("newGradientCollector").and(takesArguments(0));

    private static final String NEXUS_DISABLED = "net.bytebuddy.nexus.disabled";

    private TrainerInstrumentation() {}

    static void install(Instrumentation inst, boolean attached) {
        // Advice is inlined and class formats never change, so Byte Buddy's Nexus (initializers of
        // injected types) is never used; set up anyway, it reaches for sun.misc.Unsafe, which JDK 24+
        // warns about. Shading relocates the name to that of the agent's own copy
        // (io.gradguard.shaded.net.bytebuddy...): a Byte Buddy of the job's is untouched.
        if (System.getProperty(NEXUS_DISABLED) == null) {
            System.setProperty(NEXUS_DISABLED, "true");
        }
        new AgentBuilder.Default()
                .disableClassFormatChanges()
                .with(AgentBuilder.RedefinitionStrategy.RETRANSFORMATION)
                .with(new ErrorListener())
                .ignore(nameStartsWith("io.gradguard.").or(nameStartsWith("java.")).or(nameStartsWith("jdk.")).or(nameStartsWith("sun.")))
                .type(named(TRAINER).or(hasSuperType(named(TRAINER))).and(not(isInterface())))
                .transform(TrainerInstrumentation::adviseTrainer)
                .type(hasSuperType(named(GRADIENT_COLLECTOR)).and(not(isInterface())))
                .transform(
                        (builder, type, loader, module, pd) ->
                                builder.visit(Advice.to(BackwardAdvice.class).on(BACKWARD)))
                .installOn(inst);
    }

    private static DynamicType.Builder<?> adviseTrainer(
            DynamicType.Builder<?> builder,
            TypeDescription type,
            ClassLoader loader,
            JavaModule module,
            ProtectionDomain pd) {
        boolean hasStep = !type.getDeclaredMethods().filter(STEP).isEmpty();
        if (TRAINER.equals(type.getName())) {
            if (!hasStep) {
                System.err.println(
                        "[gradguard] found nothing to instrument: "
                                + TRAINER
                                + " has no step() in this DJL; gradguard supports "
                                + SUPPORTED
                                + ". The job runs without gradguard.");
                return builder;
            }
        }
        DynamicType.Builder<?> b = builder.visit(Advice.to(TrainerCreatedAdvice.class).on(isConstructor()))
                .visit(Advice.to(CollectorCreatedAdvice.class).on(NEW_COLLECTOR));
        return hasStep ? b.visit(Advice.to(TrainerStepAdvice.class).on(STEP)) : b;
    }

    /** Byte Buddy reports failures here instead of throwing into class loading. */
    private static final class ErrorListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(
                String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable throwable) {
            System.err.println(
                    "[gradguard] could not instrument " + typeName + " (the job runs on untouched): " + throwable);
        }
    }
}
