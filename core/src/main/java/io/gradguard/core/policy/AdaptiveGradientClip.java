package io.gradguard.core.policy;

import ai.djl.ndarray.NDArray;
import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.Part;
import io.gradguard.core.config.ValueTypes;
import io.gradguard.core.config.ValueTypes.Range;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.Map;

/**
 * Policy {@code agc}: adaptive gradient clipping (Brock et al. 2021, NFNets). Per unit i (a row of
 * a 2-D weight, an output channel of a conv kernel, the whole tensor for biases),
 * {@code max = lambda * max(||W_i||, 1e-3)} and, if {@code ||G_i|| > max}, {@code G_i *= max /
 * ||G_i||}.
 *
 * <p>The per-unit factors stay on the device: one {@code min(1, max / ||G_i||)} tensor per
 * parameter, multiplied in place, so untouched units are multiplied by exactly 1 and stay
 * bit-identical. As in the NFNets reference code, {@code ||G_i||} is floored at 1e-6 in the
 * division. The post-clip global norm needs a host read, so the result carries NaN.
 */
public final class AdaptiveGradientClip implements ClipPolicy {

    /** NFNets' clipping factor. */
    public static final ConfigKey<Double> LAMBDA = ConfigKey.of(
                    "policy.lambda",
                    ValueTypes.number(Range.POSITIVE, null),
                    0.01,
                    "agc: a unit's gradient norm is capped at lambda * max(||W_i||, 1e-3)")
            .in(Part.PROTECTION);

    /** Registration. */
    public static final PolicyType TYPE = new PolicyType(
            "agc",
            "adaptive gradient clipping (NFNets), per unit, factor lambda",
            List.of(LAMBDA),
            c -> new AdaptiveGradientClip(c.get(LAMBDA)));

    /** NFNets' floor on a unit's weight norm, so freshly zero-initialised units can still move. */
    private static final float WEIGHT_NORM_FLOOR = 1e-3f;
    /** NFNets' floor on a unit's gradient norm in the division. */
    private static final float GRADIENT_NORM_FLOOR = 1e-6f;

    private final double lambda;

    /**
     * Creates the policy.
     *
     * @param lambda the clipping factor, &gt; 0 (NFNets default 0.01)
     */
    public AdaptiveGradientClip(double lambda) {
        this.lambda = Settings.require(LAMBDA, lambda);
    }

    /** {@inheritDoc} */
    @Override
    public String type() {
        return TYPE.name();
    }

    /** {@inheritDoc} */
    @Override
    public String description() {
        return "adaptive gradient clipping per unit, lambda " + Settings.format(lambda) + " (NFNets AGC)";
    }

    /** {@inheritDoc} */
    @Override
    public Map<String, String> settings() {
        return Settings.of(LAMBDA, lambda);
    }

    /** {@inheritDoc} */
    @Override
    public ClipResult apply(List<ParameterGradient> gradients, StepStats stats) {
        if (!Double.isFinite(stats.globalNorm())) {
            return ClipResult.untouched(stats.globalNorm());
        }
        for (ParameterGradient parameter : gradients) {
            clipUnits(parameter.weight(), parameter.gradient());
        }
        // Whether any unit was scaled is only known on the device; the engine measures it.
        return ClipResult.elementwise();
    }

    private void clipUnits(NDArray weight, NDArray gradient) {
        int[] unitAxes = unitAxes(gradient.getShape().dimension());
        try (NDArray weightNorm = unitNorm(weight, unitAxes);
                NDArray allowed = weightNorm.maximum(WEIGHT_NORM_FLOOR);
                NDArray gradientNorm = unitNorm(gradient, unitAxes);
                NDArray flooredGradientNorm = gradientNorm.maximum(GRADIENT_NORM_FLOOR)) {
            allowed.muli((float) lambda);
            try (NDArray ratio = allowed.div(flooredGradientNorm);
                    NDArray scale = ratio.minimum(1f)) {
                gradient.muli(scale);
            }
        }
    }

    /** Reduces over every axis but the first (the unit axis); 0-D and 1-D tensors are one unit. */
    static int[] unitAxes(int dimensions) {
        if (dimensions <= 1) {
            return dimensions == 0 ? new int[0] : new int[] {0};
        }
        int[] axes = new int[dimensions - 1];
        for (int i = 0; i < axes.length; i++) {
            axes[i] = i + 1;
        }
        return axes;
    }

    private static NDArray unitNorm(NDArray array, int[] axes) {
        // A scalar parameter is its own unit; torch's norm over no axes would still reduce.
        return axes.length == 0 ? array.abs() : array.norm(axes, true);
    }
}
