package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

import net.bytebuddy.asm.Advice;

/**
 * Inlined at the end of {@code Trainer.newGradientCollector()}: the losses later passed to this
 * collector's {@code backward} belong to this trainer, also when several trainers run at once.
 */
final class CollectorCreatedAdvice {

    private CollectorCreatedAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object trainer, @Advice.Return Object collector) {
        GradGuardBridge.collectorCreated(trainer, collector);
    }
}
