package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

import net.bytebuddy.asm.Advice;

/**
 * Inlined into {@code ai.djl.training.Trainer.step()}: at entry every gradient on every device is
 * complete and not yet applied. A non-null entry value skips the body (the optimizer update).
 */
final class TrainerStepAdvice {

    private TrainerStepAdvice() {}

    @Advice.OnMethodEnter(skipOn = Advice.OnNonDefaultValue.class, suppress = Throwable.class)
    static Object enter(@Advice.This Object trainer) {
        return GradGuardBridge.beforeStep(trainer);
    }

    @Advice.OnMethodExit(onThrowable = Throwable.class, suppress = Throwable.class)
    static void exit(
            @Advice.This Object trainer,
            @Advice.Enter Object decision,
            @Advice.Thrown(readOnly = false) Throwable thrown) {
        Throwable failure = GradGuardBridge.afterStep(trainer, decision, thrown);
        if (failure != null) {
            thrown = failure; // the user asked for it: on_nonfinite=fail
        }
    }
}
