package io.gradguard.core.detect;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
import java.util.List;

/**
 * The {@code detector:} section.
 *
 * @param spikeZ z-score of the global norm above which a step counts as an explosion
 * @param vanishingThreshold global norm under which a step counts towards vanishing
 * @param vanishingSteps consecutive such steps that make one vanishing event
 * @param alpha EMA smoothing factor of the running mean and variance (fixed at 0.97)
 * @param warmupSteps steps that only feed the statistics (fixed at 25)
 */
public record DetectorConfig(
        double spikeZ, double vanishingThreshold, int vanishingSteps, double alpha, int warmupSteps) {

    /** The explosion threshold. */
    public static final ConfigKey<Double> SPIKE_Z = ConfigKey.of(
            "detector.spike_z",
            ValueTypes.number(Range.POSITIVE, null),
            6.0,
            "z-score of the global norm above which a step counts as an explosion");
    /** The vanishing threshold. */
    public static final ConfigKey<Double> VANISHING_THRESHOLD = ConfigKey.of(
            "detector.vanishing_threshold",
            ValueTypes.number(Range.NON_NEGATIVE, null),
            1e-7,
            "global norm under which a step counts towards vanishing");
    /** The vanishing streak length. */
    public static final ConfigKey<Integer> VANISHING_STEPS = ConfigKey.of(
            "detector.vanishing_steps",
            ValueTypes.integer(1, Integer.MAX_VALUE, null),
            100,
            "consecutive such steps that make one vanishing event");
    /** The detector's keys. */
    public static final List<ConfigKey<?>> KEYS = List.of(SPIKE_Z, VANISHING_THRESHOLD, VANISHING_STEPS);

    /** The EMA smoothing of the norm statistics: ZClip's default. */
    static final double ALPHA = 0.97;
    /** Steps that seed the statistics. */
    static final int WARMUP_STEPS = 25;

    /**
     * The detector settings of a configuration.
     *
     * @param config a configuration whose schema holds {@link #KEYS}
     * @return the settings
     */
    public static DetectorConfig from(GradGuardConfig config) {
        return new DetectorConfig(
                config.get(SPIKE_Z), config.get(VANISHING_THRESHOLD), config.get(VANISHING_STEPS), ALPHA, WARMUP_STEPS);
    }
}
