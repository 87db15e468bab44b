package io.gradguard.core.guard;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Part;
import io.gradguard.core.djl.Scratch;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.policy.ClipPolicy;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.policy.NoClip;
import io.gradguard.core.stats.GradientStatistics;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.PolicyDescription;
import java.util.List;
import java.util.Locale;

/** The active clipping policy of one trainer: made from the configuration, replaced on reload. */
final class Clipping {

    private ClipPolicy policy;
    private PolicyDescription description;

    Clipping(GradGuardConfig config) {
        use(config);
    }

    /** Makes the policy the configuration names; none when a protection setting was unusable. */
    void use(GradGuardConfig config) {
        ClipPolicy next = config.unusable(Part.PROTECTION) ? new NoClip() : ClipPolicies.create(config);
        StringBuilder settings = new StringBuilder();
        next.settings()
                .forEach((k, v) -> settings.append(settings.length() == 0 ? "" : ",")
                        .append(k)
                        .append('=')
                        .append(v));
        policy = next;
        description = new PolicyDescription(
                next.type(),
                settings.toString(),
                next.description(),
                config.onNonfinite().name().toLowerCase(Locale.ROOT));
    }

    PolicyDescription description() {
        return description;
    }

    /** Whether the policy may rewrite gradients (so device copies must be reduced in place). */
    boolean active() {
        return !(policy instanceof NoClip);
    }

    Object saveState() {
        return policy.saveState();
    }

    void restoreState(Object state) {
        policy.restoreState(state);
    }

    boolean needsMaxAbs() {
        return policy.needsMaxAbs();
    }

    boolean needsWeightNorms() {
        return policy.needsWeightNorms();
    }

    /** Applies the policy; for element-wise policies the post-clip norm is measured (one host read). */
    ClipResult clip(List<ParameterGradient> grads, StepStats stats, Scratch scratch) {
        ClipResult result = policy.apply(grads, stats);
        if (result.measureAfter()) {
            return result.measured(stats.globalNorm(), GradientStatistics.globalNorm(grads, scratch));
        }
        return result;
    }
}
