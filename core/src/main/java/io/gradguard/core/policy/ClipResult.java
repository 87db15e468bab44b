package io.gradguard.core.policy;

/**
 * What a {@link ClipPolicy} did at one step.
 *
 * <p>Element-wise policies (value clipping, AGC) cannot tell on the host what their clamping did to
 * the global norm: they return {@link #elementwise()}, and the engine measures the post-clip norm
 * (one more host read) to fill in both figures.
 *
 * @param clipped whether any gradient was scaled or clamped
 * @param coefficient the factor applied to the global gradient (1 = untouched); for element-wise
 *     policies the ratio of post- to pre-clip global norm
 * @param clippedGlobalNorm the global L2 norm after clipping
 * @param measureAfter whether the engine must measure the post-clip norm to know the two figures
 */
public record ClipResult(boolean clipped, double coefficient, double clippedGlobalNorm, boolean measureAfter) {

    private static final ClipResult ELEMENTWISE = new ClipResult(true, Double.NaN, Double.NaN, true);

    /**
     * A result whose figures are known on the host.
     *
     * @param clipped whether any gradient was scaled
     * @param coefficient the factor applied to the global gradient
     * @param clippedGlobalNorm the global L2 norm after clipping
     */
    public ClipResult(boolean clipped, double coefficient, double clippedGlobalNorm) {
        this(clipped, coefficient, clippedGlobalNorm, false);
    }

    /**
     * Nothing was changed.
     *
     * @param globalNorm the step's (unchanged) global norm
     * @return a result with coefficient 1
     */
    public static ClipResult untouched(double globalNorm) {
        return new ClipResult(false, 1.0, globalNorm);
    }

    /**
     * Gradients were scaled by a known factor.
     *
     * @param coefficient the factor applied to the global gradient
     * @param clippedGlobalNorm the global L2 norm after scaling
     * @return the result
     */
    public static ClipResult scaled(double coefficient, double clippedGlobalNorm) {
        return new ClipResult(true, coefficient, clippedGlobalNorm);
    }

    /**
     * Some elements were clamped; the engine measures the resulting norm.
     *
     * @return the result
     */
    public static ClipResult elementwise() {
        return ELEMENTWISE;
    }

    /**
     * This result completed with the post-clip norm the engine measured.
     *
     * @param preClipNorm the global L2 norm before the policy acted
     * @param postClipNorm the global L2 norm measured after it
     * @return a result with known figures
     */
    public ClipResult measured(double preClipNorm, double postClipNorm) {
        return new ClipResult(
                postClipNorm < preClipNorm, preClipNorm > 0 ? postClipNorm / preClipNorm : 1.0, postClipNorm);
    }
}
