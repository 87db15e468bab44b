package io.gradguard.core.recovery;

import io.gradguard.core.config.GradGuardConfig;

/**
 * The recovery ladder's settings, read once from the {@code recovery:} keys.
 *
 * @param factor recovery.factor
 * @param persist recovery.persist
 * @param window recovery.window
 * @param calmSteps recovery.calm_steps
 * @param minScale recovery.min_scale
 * @param rateJump recovery.rate_jump
 * @param snapshotEvery recovery.snapshot_every
 * @param divergeSteps recovery.diverge_steps
 * @param maxRewinds recovery.max_rewinds
 * @param rewindWindow recovery.rewind_window
 * @param failWhenExhausted whether recovery.on_exhausted is fail
 */
record LadderSettings(
        double factor,
        int persist,
        int window,
        int calmSteps,
        double minScale,
        double rateJump,
        int snapshotEvery,
        int divergeSteps,
        int maxRewinds,
        int rewindWindow,
        boolean failWhenExhausted) {

    static LadderSettings of(GradGuardConfig config) {
        return new LadderSettings(
                config.get(RecoveryKeys.FACTOR),
                config.get(RecoveryKeys.PERSIST),
                config.get(RecoveryKeys.WINDOW),
                config.get(RecoveryKeys.CALM_STEPS),
                config.get(RecoveryKeys.MIN_SCALE),
                config.get(RecoveryKeys.RATE_JUMP),
                config.get(RecoveryKeys.SNAPSHOT_EVERY),
                config.get(RecoveryKeys.DIVERGE_STEPS),
                config.get(RecoveryKeys.MAX_REWINDS),
                config.get(RecoveryKeys.REWIND_WINDOW),
                "fail".equals(config.get(RecoveryKeys.ON_EXHAUSTED)));
    }
}
