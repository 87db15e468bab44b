package io.gradguard.core.detect;

/**
 * What the detector concluded from one step's global norm.
 *
 * @param zScore z-score of the global norm against its running mean (0 during warm-up, NaN if the
 *     norm was not finite)
 * @param explosion whether this step counts as an explosion
 * @param vanishing whether this step completed a vanishing streak (one event per streak)
 */
public record Detection(double zScore, boolean explosion, boolean vanishing) {}
