package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

import net.bytebuddy.asm.Advice;

/** Inlined at the end of {@code Trainer}'s constructor: the runtime and endpoint start here. */
final class TrainerCreatedAdvice {

    private TrainerCreatedAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object trainer) {
        GradGuardBridge.trainerCreated(trainer);
    }
}
