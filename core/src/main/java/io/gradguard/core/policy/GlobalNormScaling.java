package io.gradguard.core.policy;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import io.gradguard.core.djl.StorageViews;
import io.gradguard.core.stats.ParameterGradient;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * The scaling step of PyTorch's {@code clip_grad_norm_}, shared by every policy that clips the
 * global norm (global-norm, percentile, zscore) so that they agree to the last bit.
 */
final class GlobalNormScaling {

    /** PyTorch's epsilon in {@code clip_coef = max_norm / (total_norm + 1e-6)}. */
    static final double EPSILON = 1e-6;

    /**
     * The chunk {@link #scaleInJava} works in, one per training thread: made at every clipped step
     * it was 8 KB of fresh heap a step, and a tenth of the scaling's time went to zeroing it and to
     * the page faults of the new memory (profiled on the mlp).
     */
    private static final ThreadLocal<float[]> CHUNKS =
            ThreadLocal.withInitial(() -> new float[StorageViews.CHUNK_FLOATS]);

    private GlobalNormScaling() {}

    /** Whether a {@code norm_type} is infinity (max |g|) rather than 2. */
    static boolean isInfinity(double normType) {
        return normType == Double.POSITIVE_INFINITY;
    }

    /** {@code L2} or {@code inf}, for descriptions. */
    static String normName(double normType) {
        return isInfinity(normType) ? "inf" : "L2";
    }

    /**
     * PyTorch's {@code clip_coef = max_norm / (total + 1e-6)}, when it is below 1.
     *
     * @param total the norm compared with {@code maxNorm} (L2 or inf, as the policy measures it)
     * @param maxNorm the norm to clip to
     * @return the factor, or 1 when nothing is clipped
     */
    static double coefficient(double total, double maxNorm) {
        if (!Double.isFinite(total) || !Double.isFinite(maxNorm)) {
            // A non-finite norm would turn the coefficient into 0 or NaN and poison every
            // gradient; the engine handles non-finite steps before any policy runs.
            return 1.0;
        }
        double coefficient = maxNorm / (total + EPSILON);
        return coefficient < 1.0 ? coefficient : 1.0;
    }

    /**
     * Scales every gradient by a factor when it is below 1.
     *
     * @param gradients modified in place
     * @param coefficient the factor a {@link GlobalNormPolicy} decided
     * @param globalL2 the pre-clip global L2 norm, to report the post-clip L2 norm on the host
     */
    static ClipResult scale(List<ParameterGradient> gradients, double coefficient, double globalL2) {
        if (!(coefficient < 1.0)) {
            return ClipResult.untouched(globalL2);
        }
        // Float, like torch's float32 clip_coef: a double scalar would make a float64 temporary.
        float factor = (float) coefficient;
        // One factor tensor per device, shared by its gradients: muli(Number) makes (and frees) a
        // native tensor at every call, which profiled at 15 us each, more than the multiply.
        NDArray made = null;
        Device madeOn = null;
        float[] chunk = null;
        try {
            for (ParameterGradient parameter : gradients) {
                FloatBuffer view = parameter.hostView();
                if (view != null) {
                    if (chunk == null) {
                        chunk = CHUNKS.get();
                    }
                    scaleInJava(view, factor, chunk);
                    continue;
                }
                NDArray gradient = parameter.gradient();
                NDArray kept = FactorCell.holding(gradient.getManager(), factor);
                if (kept != null) {
                    gradient.muli(kept);
                    continue;
                }
                Device on = gradient.getManager().getDevice();
                if (made == null || !on.equals(madeOn)) {
                    if (made != null) {
                        made.close();
                    }
                    made = gradient.getManager().create(factor);
                    madeOn = on;
                }
                gradient.muli(made);
            }
        } finally {
            if (made != null) {
                made.close();
            }
        }
        return ClipResult.scaled(coefficient, globalL2 * coefficient);
    }

    /**
     * Multiplies a CPU gradient through the view of its storage. A float32 product in Java rounds
     * as PyTorch's float32 {@code mul_} does, bit for bit, and spares a native call per small
     * gradient (half the tensors of a deep MLP). The view is read and written a chunk at a time
     * (two bulk copies and a plain array loop): reading and writing it element by element costs
     * six times as much until the JIT has compiled this method, most of a 2,000-step job.
     */
    private static void scaleInJava(FloatBuffer view, float factor, float[] chunk) {
        int n = view.limit();
        for (int at = 0; at < n; at += chunk.length) {
            int k = Math.min(chunk.length, n - at);
            view.get(at, chunk, 0, k);
            for (int i = 0; i < k; i++) {
                chunk[i] *= factor;
            }
            view.put(at, chunk, 0, k);
        }
    }
}
