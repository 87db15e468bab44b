package io.gradguard.core.config;

/**
 * The {@code detector:} section.
 *
 * @param spikeZ z-score of the global norm above which a step counts as an explosion (default 6)
 * @param vanishingThreshold global norm under which a step counts towards vanishing (1e-7)
 * @param vanishingSteps consecutive such steps that make one vanishing event (default 100)
 * @param alpha EMA smoothing factor of the running mean and variance (default 0.97)
 * @param warmupSteps steps that only feed the statistics, never flag (default 25)
 */
public record DetectorConfig(
        double spikeZ, double vanishingThreshold, int vanishingSteps, double alpha, int warmupSteps) {

    /**
     * The defaults.
     *
     * @return the default detector settings
     */
    public static DetectorConfig defaults() {
        return new DetectorConfig(6.0, 1e-7, 100, 0.97, 25);
    }
}
