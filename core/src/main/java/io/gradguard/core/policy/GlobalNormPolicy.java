package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import java.util.List;

/**
 * A policy whose whole action is one factor on the global gradient, decided on the host from the
 * step's statistics alone: global-norm, percentile (AutoClip), zscore (ZClip), auto. The decision
 * ({@link #decide}) is apart from the scaling, so the agent can ask such a policy what it would do
 * at a step, in shadow, without touching a gradient; {@link #apply} is the decision followed by the
 * scaling that every such policy shares, so the two cannot disagree.
 */
public interface GlobalNormPolicy extends ClipPolicy {

    /**
     * Decides this step's factor on the global gradient and advances the policy's state (history,
     * EMA) exactly as {@link #apply} does. Touches no gradient.
     *
     * @param stats the step's pre-clip statistics
     * @return the factor, below 1 when the policy clips, 1 when it leaves the gradients as they
     *     are (also for a non-finite norm, which the engine handles before any policy)
     */
    double decide(StepStats stats);

    /**
     * {@link #decide}, then every gradient scaled by the factor when it is below 1.
     *
     * @param gradients the step's gradients; each is modified in place
     * @param stats the pre-clip statistics of the same gradients
     * @return what was done
     */
    @Override
    default ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        return GlobalNormScaling.scale(gradients, decide(stats), stats.globalNorm());
    }
}
