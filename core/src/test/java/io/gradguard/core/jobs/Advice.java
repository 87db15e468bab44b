package io.gradguard.core.jobs;

import io.gradguard.core.guard.StepEngine;
import io.gradguard.core.guard.StepOutcome;

/** What the agent's advice on {@code Trainer.step()} does, for tests that drive an engine themselves. */
public final class Advice {

    private Advice() {}

    /**
     * The engine's entry, DJL's update unless the engine skips it, the engine's exit (also when
     * the update threw).
     *
     * @param engine the trainer's engine
     * @param update DJL's own {@code step()}
     * @return what the engine decided at entry
     */
    public static StepOutcome step(StepEngine engine, Runnable update) {
        StepOutcome outcome = engine.beforeStep(System.nanoTime());
        boolean threw = false;
        try {
            if (outcome.runUpdate()) {
                update.run();
            }
        } catch (RuntimeException e) {
            threw = true;
            throw e;
        } finally {
            engine.afterStep(threw, System.nanoTime());
        }
        return outcome;
    }
}
