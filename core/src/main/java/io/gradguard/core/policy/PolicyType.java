package io.gradguard.core.policy;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.GradGuardConfig;
import java.util.List;
import java.util.function.Function;

/**
 * A clipping policy as configuration knows it: the name of {@code policy.type}, one line for the
 * help, the settings it reads and how to make one. Each policy class declares its own and {@link
 * ClipPolicies} lists them; nothing else needs to know a policy exists.
 *
 * @param name the value of {@code policy.type}, e.g. {@code global-norm}
 * @param summary one line for the help text
 * @param settings the keys it reads, in the order its labels show them
 * @param factory makes a fresh policy from a configuration
 */
public record PolicyType(
        String name, String summary, List<ConfigKey<?>> settings, Function<GradGuardConfig, ClipPolicy> factory) {

    /** Defensive copy. */
    public PolicyType {
        settings = List.copyOf(settings);
    }

    /**
     * A fresh policy (stateful policies start with empty history / EMA).
     *
     * @param config a configuration of a schema that holds the policy's keys
     * @return the policy
     */
    public ClipPolicy create(GradGuardConfig config) {
        return factory.apply(config);
    }
}
