package io.gradguard.core.recovery;

/**
 * The ladder's state after one step, as reports, metrics and the live page show it.
 *
 * @param state {@code calm}, {@code backed-off} or {@code exhausted}
 * @param lrScale the factor on the job's learning rate (1 = untouched)
 * @param action what the ladder did at this step
 * @param rewoundSteps steps undone by a rewind at this step, else 0
 * @param why one line on what triggered the action, or null
 */
public record RecoveryStatus(String state, double lrScale, RecoveryAction action, long rewoundSteps, String why) {}
