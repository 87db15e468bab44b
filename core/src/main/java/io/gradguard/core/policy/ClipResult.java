package io.gradguard.core.policy;

/**
 * What a {@link ClipPolicy} did at one step.
 *
 * <p>When {@code coefficient} is NaN the policy could not tell on the host what it did: {@code
 * clipped} then means "may have changed gradients" (AGC always, value clipping whenever max |g|
 * exceeded c), and the engine measures the post-clip norm to derive both figures. A policy that
 * knows it touched nothing returns {@link #untouched(double)}.
 *
 * @param clipped whether any gradient was scaled or clamped
 * @param coefficient the factor applied to the global gradient (1 = untouched); for element-wise
 *     policies (value, per-parameter, AGC) the ratio of post- to pre-clip global norm, or NaN when
 *     the policy cannot know it without another host read
 * @param clippedGlobalNorm the global L2 norm after clipping, or NaN when unknown without another
 *     host read (the engine then measures it)
 */
public record ClipResult(boolean clipped, double coefficient, double clippedGlobalNorm) {

    /**
     * Nothing was changed.
     *
     * @param globalNorm the step's (unchanged) global norm
     * @return a result with coefficient 1
     */
    public static ClipResult untouched(double globalNorm) {
        return new ClipResult(false, 1.0, globalNorm);
    }
}
