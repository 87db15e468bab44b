package io.gradguard.core.recorder;

import java.nio.file.Path;

/**
 * An incident file just written, as the live page lists it.
 *
 * @param model the model label
 * @param step the step that opened the incident
 * @param trigger {@code nonfinite}, {@code explosion}, {@code skip_streak}, {@code rewind} or
 *     {@code failure}
 * @param file the incident file
 * @param firstOffender the parameter that left its band first, or null when none did
 */
public record IncidentNotice(String model, long step, String trigger, Path file, String firstOffender) {}
