package io.gradguard.agent;

import io.gradguard.bootstrap.GradGuardBridge;

import net.bytebuddy.asm.Advice;

/** Inlined at the end of {@code GradientCollector.backward(NDArray)}: the loss is its argument. */
final class BackwardAdvice {

    private BackwardAdvice() {}

    @Advice.OnMethodExit(suppress = Throwable.class)
    static void exit(@Advice.This Object collector, @Advice.Argument(0) Object target) {
        GradGuardBridge.backward(collector, target);
    }
}
