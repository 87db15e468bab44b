package io.gradguard.core.recovery;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
import java.util.List;

/** The {@code recovery:} section: the rungs of the ladder that {@code policy.type=auto} turns on. */
public final class RecoveryKeys {

    /** auto = on with {@code policy.type=auto}. */
    static final List<String> SWITCH = List.of("auto", "on", "off");

    /** Learning-rate backoff. */
    public static final ConfigKey<String> BACKOFF = ConfigKey.of(
                    "recovery.backoff",
                    ValueTypes.oneOf(SWITCH, "a switch"),
                    "auto",
                    "scale the job's learning rate down while explosions persist (auto = on with policy.type=auto)")
            .in(Part.PROTECTION);
    /** Rewind to a healthy snapshot. */
    public static final ConfigKey<String> REWIND = ConfigKey.of(
                    "recovery.rewind",
                    ValueTypes.oneOf(SWITCH, "a switch"),
                    "auto",
                    "restore the last healthy weights and optimizer state when the run diverges (auto = on with"
                            + " policy.type=auto)")
            .in(Part.PROTECTION);
    /** Backoff factor. */
    public static final ConfigKey<Double> FACTOR = ConfigKey.of(
                    "recovery.factor",
                    ValueTypes.number(Range.OPEN_UNIT, "0.5"),
                    0.5,
                    "each backoff multiplies the learning rate by this")
            .in(Part.PROTECTION);
    /** Events in the window that make a backoff. */
    public static final ConfigKey<Integer> PERSIST = ConfigKey.of(
                    "recovery.persist",
                    ValueTypes.integer(1, 1000, null),
                    3,
                    "explosions within recovery.window steps that make one backoff")
            .in(Part.PROTECTION);
    /** The window. */
    public static final ConfigKey<Integer> WINDOW = ConfigKey.of(
                    "recovery.window",
                    ValueTypes.integer(1, 100_000, null),
                    20,
                    "steps over which explosions are counted")
            .in(Part.PROTECTION);
    /** Calm before raising. */
    public static final ConfigKey<Integer> CALM_STEPS = ConfigKey.of(
                    "recovery.calm_steps",
                    ValueTypes.integer(1, 1_000_000, null),
                    100,
                    "steps without explosion after which a backed-off rate is raised one step back")
            .in(Part.PROTECTION);
    /** The smallest scale. */
    public static final ConfigKey<Double> MIN_SCALE = ConfigKey.of(
                    "recovery.min_scale",
                    ValueTypes.number(Range.OPEN_UNIT, "0.001"),
                    1.0 / 1024,
                    "the learning rate is never scaled below this")
            .in(Part.PROTECTION);
    /** A jump of the job's own rate. */
    public static final ConfigKey<Double> RATE_JUMP = ConfigKey.of(
                    "recovery.rate_jump",
                    ValueTypes.number(Range.ABOVE_ONE, "10"),
                    10.0,
                    "a rise of the job's own learning rate by this factor in one step is held back to the previous"
                            + " update size")
            .in(Part.PROTECTION);
    /** Snapshot interval. */
    public static final ConfigKey<Integer> SNAPSHOT_EVERY = ConfigKey.of(
                    "recovery.snapshot_every",
                    ValueTypes.integer(1, 1_000_000, null),
                    100,
                    "steps between snapshots of the weights and optimizer state, taken only when the run is healthy")
            .in(Part.PROTECTION);
    /** Steps outside the band that mean divergence. */
    public static final ConfigKey<Integer> DIVERGE_STEPS = ConfigKey.of(
                    "recovery.diverge_steps",
                    ValueTypes.integer(1, 10_000, null),
                    5,
                    "steps in a row with a non-finite gradient or a loss far above its band that mean the run diverged")
            .in(Part.PROTECTION);
    /** Rewinds before giving up. */
    public static final ConfigKey<Integer> MAX_REWINDS = ConfigKey.of(
                    "recovery.max_rewinds",
                    ValueTypes.integer(1, 1000, null),
                    3,
                    "rewinds within recovery.rewind_window steps before giving up")
            .in(Part.PROTECTION);
    /** The rewind window. */
    public static final ConfigKey<Integer> REWIND_WINDOW = ConfigKey.of(
                    "recovery.rewind_window",
                    ValueTypes.integer(1, 10_000_000, null),
                    1000,
                    "steps over which rewinds are counted")
            .in(Part.PROTECTION);
    /** What giving up means. */
    public static final ConfigKey<String> ON_EXHAUSTED = ConfigKey.of(
                    "recovery.on_exhausted",
                    ValueTypes.oneOf(List.of("fail", "stop"), "an action"),
                    "fail",
                    "after recovery.max_rewinds: fail the job with one line, or stop recovering and let it run")
            .in(Part.PROTECTION);
    /** Refuse saving non-finite weights. */
    public static final ConfigKey<Boolean> REFUSE_POISONED_SAVE = ConfigKey.of(
                    "recovery.refuse_poisoned_save",
                    ValueTypes.bool(),
                    true,
                    "refuse Model.save while the weights hold NaN/Inf, so a good checkpoint stays")
            .in(Part.PROTECTION);

    /** Every key of the section. */
    public static final List<ConfigKey<?>> KEYS = List.of(
            BACKOFF,
            REWIND,
            FACTOR,
            PERSIST,
            WINDOW,
            CALM_STEPS,
            MIN_SCALE,
            RATE_JUMP,
            SNAPSHOT_EVERY,
            DIVERGE_STEPS,
            MAX_REWINDS,
            REWIND_WINDOW,
            ON_EXHAUSTED,
            REFUSE_POISONED_SAVE);

    private RecoveryKeys() {}
}
