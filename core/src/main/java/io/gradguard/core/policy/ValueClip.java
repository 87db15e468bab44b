package io.gradguard.core.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;

import java.util.List;
import java.util.Map;

/**
 * Policy {@code value}: clamps every gradient element to [-c, c]. Unlike DJL's own {@code
 * optClipGrad} on PyTorch, which clamps only the top, both sides are clamped.
 *
 * <p>Only parameters whose max |g| exceeds c are touched, so a step under the limit costs no
 * native call at all. The post-clip global norm is not known without another host read, so the
 * result carries NaN and the engine measures it.
 */
public final class ValueClip implements ClipPolicy {

    /** Selects every element: {@code "..."} makes DJL take the full-slice path, a plain copy. */
    private static final NDIndex ALL = new NDIndex("...");

    private final double clipValue;

    /**
     * Creates the policy.
     *
     * @param clipValue c, &gt; 0
     */
    public ValueClip(double clipValue) {
        Settings.requirePositive("clip_value", clipValue);
        this.clipValue = clipValue;
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return "value";
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        String c = Settings.format(clipValue);
        return "clamp every gradient element to [-" + c + ", " + c + "]";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of("clip_value", Settings.format(clipValue));
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        if (!(stats.globalMaxAbs() > clipValue)) {
            // Also covers NaN: a non-finite step is the engine's business, not a clamp's.
            return ClipResult.untouched(stats.globalNorm());
        }
        List<ParameterStats> perParameter = Alignment.check(gradients, stats);
        float c = (float) clipValue;
        for (int i = 0; i < gradients.size(); i++) {
            if (perParameter.get(i).gradMaxAbs() > clipValue) {
                clampInPlace(gradients.get(i).gradient(), c);
            }
        }
        return new ClipResult(true, Double.NaN, Double.NaN);
    }

    /**
     * DJL's {@code clip} returns a new array, and a {@code getGradient()} handle cannot be
     * re-pointed (that would leave the real {@code .grad} alone), so the clamped copy is written
     * back through an indexed set, which PyTorch performs in place on the shared storage.
     */
    private static void clampInPlace(NDArray gradient, float c) {
        try (NDArray clamped = gradient.clip(-c, c)) {
            gradient.set(ALL, clamped);
        }
    }
}
