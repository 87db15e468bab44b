package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.gradguard.core.config.PolicyConfig;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

class ClipPoliciesTest {

    @Test
    void createsOnePolicyClassPerConfiguredType() {
        assertInstanceOf(NoClip.class, ClipPolicies.create(PolicyConfig.defaults("none")));
        assertInstanceOf(ValueClip.class, ClipPolicies.create(PolicyConfig.defaults("value")));
        assertInstanceOf(GlobalNormClip.class, ClipPolicies.create(PolicyConfig.defaults("global-norm")));
        assertInstanceOf(PerParameterNormClip.class, ClipPolicies.create(PolicyConfig.defaults("per-parameter-norm")));
        assertInstanceOf(AdaptiveGradientClip.class, ClipPolicies.create(PolicyConfig.defaults("agc")));
        assertInstanceOf(PercentileClip.class, ClipPolicies.create(PolicyConfig.defaults("percentile")));
        assertInstanceOf(ZScoreClip.class, ClipPolicies.create(PolicyConfig.defaults("zscore")));
        for (String type : PolicyConfig.TYPES) {
            assertEquals(type, ClipPolicies.create(PolicyConfig.defaults(type)).type());
        }
    }

    @Test
    void exportsSettingsInOrderUnderConfigKeys() {
        assertEquals(List.of(Map.entry("max_norm", "1.0"), Map.entry("norm_type", "2.0")),
                List.copyOf(ClipPolicies.create(PolicyConfig.defaults("global-norm")).settings().entrySet()));
        assertEquals(Map.of("max_norm", "0.5", "norm_type", "inf"),
                ClipPolicies.create(ClipPolicyContractTest.norm("per-parameter-norm", 0.5, Double.POSITIVE_INFINITY))
                        .settings());
        assertEquals(List.of("z_threshold", "alpha", "warmup_steps", "max_norm"),
                List.copyOf(ClipPolicies.create(PolicyConfig.defaults("zscore")).settings().keySet()));
        assertEquals("none", ClipPolicies.create(PolicyConfig.defaults("zscore")).settings().get("max_norm"));
        assertEquals(Map.of("percentile", "10.0", "history", "1000"),
                ClipPolicies.create(PolicyConfig.defaults("percentile")).settings());
        assertEquals("clip global L2 norm to 1.0 (torch clip_grad_norm_)",
                ClipPolicies.create(PolicyConfig.defaults("global-norm")).description());
    }

    @Test
    void rejectsUnknownTypesAndOutOfRangeSettings() {
        assertThrows(IllegalArgumentException.class, () -> ClipPolicies.create(PolicyConfig.defaults("adaptive")));
        assertThrows(IllegalArgumentException.class,
                () -> ClipPolicies.create(ClipPolicyContractTest.norm("global-norm", 1.0, 1.0)));
        assertThrows(IllegalArgumentException.class, () -> ClipPolicies.create(ClipPolicyContractTest.value(0)));
        assertThrows(IllegalArgumentException.class,
                () -> ClipPolicies.create(ClipPolicyContractTest.zscore(2.5, 0.97, 0, Double.NaN)));
    }
}
