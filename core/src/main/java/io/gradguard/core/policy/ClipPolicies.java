package io.gradguard.core.policy;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.ConfigProblem;
import io.gradguard.core.config.ConfigSchema;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The registered clipping policies: adding one is its class and one line in {@link #REGISTERED}. */
public final class ClipPolicies {

    /** Every policy, in the order the help and the README list them. */
    public static final List<PolicyType> REGISTERED = List.of(
            NoClip.TYPE,
            ValueClip.TYPE,
            GlobalNormClip.TYPE,
            PerParameterNormClip.TYPE,
            AdaptiveGradientClip.TYPE,
            PercentileClip.TYPE,
            ZScoreClip.TYPE,
            AutoClip.TYPE);

    /** {@code policy.type}. */
    public static final ConfigKey<String> TYPE = ConfigKey.of(
                    "policy.type", ValueTypes.oneOf(names(), "a policy"), NoClip.TYPE.name(), "the clipping policy")
            .in(Part.PROTECTION);

    private ClipPolicies() {}

    /** @return the names {@code policy.type} accepts */
    public static List<String> names() {
        return REGISTERED.stream().map(PolicyType::name).toList();
    }

    /**
     * {@code policy.type} and every setting a registered policy reads, each once.
     *
     * @return the keys, in registration order
     */
    public static List<ConfigKey<?>> keys() {
        Set<ConfigKey<?>> keys = new LinkedHashSet<>();
        keys.add(TYPE);
        for (PolicyType type : REGISTERED) {
            keys.addAll(type.settings());
        }
        return List.copyOf(keys);
    }

    /**
     * The policies' contribution to a schema: their keys, the help section listing them, and the
     * rule that a setting the chosen policy does not read is said, not silently ignored.
     *
     * @param schema the schema to extend
     * @return the extended schema
     */
    public static ConfigSchema addTo(ConfigSchema schema) {
        Map<String, String> help = new LinkedHashMap<>();
        for (PolicyType type : REGISTERED) {
            help.put(type.name(), type.summary());
        }
        return schema.and(keys())
                .withHelpSection("Clipping policies (policy.type)", help)
                .withCheck(ClipPolicies::unreadSettings);
    }

    /**
     * The policy a configuration names.
     *
     * @param config the configuration
     * @return a fresh policy (stateful policies start with empty history / EMA)
     */
    public static ClipPolicy create(GradGuardConfig config) {
        return typeOf(config.get(TYPE)).create(config);
    }

    private static PolicyType typeOf(String name) {
        for (PolicyType type : REGISTERED) {
            if (type.name().equals(name)) {
                return type;
            }
        }
        throw new IllegalArgumentException("unknown policy type '" + name + "', expected one of " + names());
    }

    /** {@code policy.max_norm=0.1} without {@code policy.type} would otherwise mean no clipping, silently. */
    private static List<ConfigProblem> unreadSettings(GradGuardConfig config) {
        PolicyType chosen = typeOf(config.get(TYPE));
        List<ConfigProblem> problems = new ArrayList<>();
        for (ConfigKey<?> key : keys()) {
            if (key != TYPE && config.isSet(key) && !chosen.settings().contains(key)) {
                problems.add(ConfigProblem.warning(
                        key.name(),
                        "gradguard: " + key.name() + " is set ("
                                + config.origin(key) + ") but policy.type is " + chosen.name()
                                + ", which does not read it;"
                                + " set policy.type to a policy that does (" + readers(key) + ") or remove it",
                        Part.PROTECTION));
            }
        }
        return problems;
    }

    private static String readers(ConfigKey<?> key) {
        return String.join(
                ", ",
                REGISTERED.stream()
                        .filter(t -> t.settings().contains(key))
                        .map(PolicyType::name)
                        .toList());
    }
}
