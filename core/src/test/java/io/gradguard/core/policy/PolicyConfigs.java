package io.gradguard.core.policy;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.guard.GradGuardSchema;
import java.util.Map;

/** Configurations of one policy, built through the real loader as a user's agent args would be. */
final class PolicyConfigs {

    private PolicyConfigs() {}

    /** {@code policy.type=TYPE} with every setting at its default. */
    static GradGuardConfig defaults(String type) {
        return of(type, "");
    }

    /** {@code policy.type=TYPE} plus settings such as {@code "policy.max_norm=0.5"}. */
    static GradGuardConfig of(String type, String settings) {
        return GradGuardSchema.load(
                "policy.type=" + type + (settings.isEmpty() ? "" : "," + settings), Map.of(), Map.of());
    }

    static String typeOf(GradGuardConfig config) {
        return config.get(ClipPolicies.TYPE);
    }
}
