package io.gradguard.core.policy;

import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/**
 * A gradient clipping policy, applied at {@code Trainer.step()} entry, in place on the gradients
 * the optimizer is about to read.
 *
 * <p>Implementations keep scale factors on the device: the only host reads they may rely on are
 * the figures already in {@link StepStats}. A policy may keep state across steps (AutoClip's
 * history, ZClip's EMA); it is called from the training thread only.
 */
public interface ClipPolicy {

    /**
     * The policy's type as written in configuration, e.g. {@code global-norm}.
     *
     * @return the configuration name of this policy
     */
    String type();

    /**
     * One line saying what the policy does with its current settings, exported as a label.
     *
     * @return a human-readable description
     */
    String description();

    /**
     * The policy's settings by configuration key (e.g. {@code max_norm -> 1.0}), exported as
     * labels of {@code gradguard_policy_info}.
     *
     * @return an ordered, unmodifiable map of settings
     */
    Map<String, String> settings();

    /**
     * Whether the policy reads the weights' norms at the coming step: the engine then measures them
     * even on a step that {@code update_ratio_every} does not sample.
     *
     * @return true when {@link io.gradguard.core.stats.ParameterStats#weightNorm} must be measured
     */
    default boolean needsWeightNorms() {
        return false;
    }

    /**
     * Whether the policy reads max |g| of every parameter at every step (value clipping, inf-norm
     * clipping). It costs two more reductions per parameter, so the engine measures it only for
     * the policies that say so.
     *
     * @return true when {@link io.gradguard.core.stats.ParameterStats#gradMaxAbs()} must be measured
     *     every step
     */
    default boolean needsMaxAbs() {
        return false;
    }

    /**
     * A copy of what the policy learned from past steps (an EMA, a history), to put back when the
     * recovery ladder rewinds the run: the steps undone must not stay in it.
     *
     * @return the state, or null for a policy without one
     */
    default Object saveState() {
        return null;
    }

    /**
     * Puts back what {@link #saveState()} returned.
     *
     * @param state the saved state (null: nothing to do)
     */
    default void restoreState(Object state) {}

    /**
     * Clips the gradients in place.
     *
     * @param gradients the step's gradients; each {@code gradient} is modified in place
     * @param stats the pre-clip statistics of the same gradients
     * @return what was done
     */
    ClipResult apply(List<ParameterGradient> gradients, StepStats stats);
}
