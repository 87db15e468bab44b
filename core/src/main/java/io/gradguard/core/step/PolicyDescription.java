package io.gradguard.core.step;

/**
 * The active policy as {@code gradguard_policy_info} shows it; a new instance after each reload.
 *
 * @param type the policy type, e.g. {@code global-norm}
 * @param settings its settings, e.g. {@code max_norm=1.0,norm_type=2.0}
 * @param description one line
 * @param onNonfinite the non-finite action, e.g. {@code skip}
 */
public record PolicyDescription(String type, String settings, String description, String onNonfinite) {}
