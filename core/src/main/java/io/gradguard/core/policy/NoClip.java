package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/** Policy {@code none}: observes only; the gradients are never touched. */
public final class NoClip implements ClipPolicy {

    /** Registration. */
    public static final PolicyType TYPE =
            new PolicyType("none", "no clipping, metrics only", List.of(), c -> new NoClip());

    /** Creates the policy. */
    public NoClip() {}

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "no clipping (observe only)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Map.of();
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        return ClipResult.untouched(stats.globalNorm());
    }
}
