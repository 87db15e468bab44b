package io.gradguard.core.policy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
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

    /** The bound c. */
    public static final ConfigKey<Double> CLIP_VALUE = ConfigKey.of(
                    "policy.clip_value",
                    ValueTypes.number(Range.POSITIVE, null),
                    1.0,
                    "value: clamp every gradient element to [-clip_value, clip_value]")
            .in(Part.PROTECTION);

    /** Registration. */
    public static final PolicyType TYPE = new PolicyType(
            "value",
            "clamp every element to [-clip_value, clip_value]",
            List.of(CLIP_VALUE),
            c -> new ValueClip(c.get(CLIP_VALUE)));

    /**
     * Selects every element: {@code "..."} makes DJL take the full-slice path, a plain copy. In a
     * holder, so that reading the policy's declarations (at agent start, before DJL is on any class
     * path) loads no DJL class.
     */
    private static final class All {
        static final NDIndex INDEX = new NDIndex("...");
    }

    private final double clipValue;

    /**
     * Creates the policy.
     *
     * @param clipValue c, &gt; 0
     */
    public ValueClip(double clipValue) {
        this.clipValue = Settings.require(CLIP_VALUE, clipValue);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
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
        return Settings.of(CLIP_VALUE, clipValue);
    }

    /** {@inheritDoc} */
    @Override
    public boolean needsMaxAbs() {
        return true;
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
        return ClipResult.elementwise();
    }

    /**
     * DJL's {@code clip} returns a new array, and a {@code getGradient()} handle cannot be
     * re-pointed (that would leave the real {@code .grad} alone), so the clamped copy is written
     * back through an indexed set, which PyTorch performs in place on the shared storage.
     */
    private static void clampInPlace(NDArray gradient, float c) {
        try (NDArray clamped = gradient.clip(-c, c)) {
            gradient.set(All.INDEX, clamped);
        }
    }
}
