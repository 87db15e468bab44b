package io.gradguard.core.recovery;

/** What the recovery ladder did at one step (the {@code action} label of {@code gradguard_recoveries_total}). */
public enum RecoveryAction {
    /** Nothing. */
    NONE,
    /** The update of an isolated outlier step was skipped. */
    SKIP,
    /** The learning rate was scaled down (persistent explosions, or a jump of the job's own rate). */
    BACKOFF,
    /** After a calm period, a backed-off rate was raised one step back. */
    RAISE,
    /** The weights and optimizer state were restored from the last healthy snapshot. */
    REWIND,
    /** Recovery was exhausted and the job is failed, as configured. */
    FAIL,
    /** Recovery was exhausted and stops; the job runs on without it, as configured. */
    STOP
}
