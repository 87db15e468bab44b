package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gradguard.core.config.ConfigException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClipPoliciesTest {

    @Test
    void createsOnePolicyClassPerConfiguredType() {
        assertInstanceOf(NoClip.class, ClipPolicies.create(PolicyConfigs.defaults("none")));
        assertInstanceOf(ValueClip.class, ClipPolicies.create(PolicyConfigs.defaults("value")));
        assertInstanceOf(GlobalNormClip.class, ClipPolicies.create(PolicyConfigs.defaults("global-norm")));
        assertInstanceOf(PerParameterNormClip.class, ClipPolicies.create(PolicyConfigs.defaults("per-parameter-norm")));
        assertInstanceOf(AdaptiveGradientClip.class, ClipPolicies.create(PolicyConfigs.defaults("agc")));
        assertInstanceOf(PercentileClip.class, ClipPolicies.create(PolicyConfigs.defaults("percentile")));
        assertInstanceOf(ZScoreClip.class, ClipPolicies.create(PolicyConfigs.defaults("zscore")));
        for (String type : ClipPolicies.names()) {
            assertEquals(type, ClipPolicies.create(PolicyConfigs.defaults(type)).type());
        }
    }

    @Test
    void exportsSettingsInOrderUnderConfigKeys() {
        assertEquals(
                List.of(Map.entry("max_norm", "1.0"), Map.entry("norm_type", "2.0")),
                List.copyOf(ClipPolicies.create(PolicyConfigs.defaults("global-norm"))
                        .settings()
                        .entrySet()));
        assertEquals(
                Map.of("max_norm", "0.5", "norm_type", "inf"),
                ClipPolicies.create(ClipPolicyContractTest.norm("per-parameter-norm", 0.5, Double.POSITIVE_INFINITY))
                        .settings());
        assertEquals(
                List.of("z_threshold", "alpha", "warmup_steps", "max_norm"),
                List.copyOf(ClipPolicies.create(PolicyConfigs.defaults("zscore"))
                        .settings()
                        .keySet()));
        assertEquals(
                "none",
                ClipPolicies.create(PolicyConfigs.defaults("zscore")).settings().get("max_norm"));
        assertEquals(
                Map.of("percentile", "10.0", "history", "1000"),
                ClipPolicies.create(PolicyConfigs.defaults("percentile")).settings());
        assertEquals(
                "clip global L2 norm to 1.0 (torch clip_grad_norm_)",
                ClipPolicies.create(PolicyConfigs.defaults("global-norm")).description());
    }

    @Test
    void rejectsUnknownTypesAndOutOfRangeSettings() {
        // through configuration: the loader refuses them with one line
        assertThrows(ConfigException.class, () -> PolicyConfigs.defaults("adaptive"));
        assertThrows(ConfigException.class, () -> ClipPolicyContractTest.norm("global-norm", 1.0, 1.0));
        assertThrows(ConfigException.class, () -> ClipPolicyContractTest.value(0));
        assertThrows(ConfigException.class, () -> ClipPolicyContractTest.zscore(2.5, 0.97, 0, Double.NaN));
        // in code: the constructors refuse exactly the same values, from the same declarations
        assertThrows(IllegalArgumentException.class, () -> new GlobalNormClip(1.0, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new ValueClip(0));
        assertThrows(IllegalArgumentException.class, () -> new ZScoreClip(2.5, 0.97, 0, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new ZScoreClip(2.5, 0.0, 25, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new PercentileClip(0, 10));
        new ZScoreClip(2.5, 0.5, 1, Double.NaN); // the boundaries the loader accepts, accepted
        new PercentileClip(100, 1);
    }
}
