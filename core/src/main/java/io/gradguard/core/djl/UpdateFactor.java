package io.gradguard.core.djl;

import ai.djl.training.optimizer.Optimizer;
import io.gradguard.core.console.Console;
import java.lang.reflect.Field;
import java.util.Set;

/**
 * A factor on every gradient of one step, applied by the optimizer's own update instead of written
 * into the gradients first.
 *
 * <p>DJL's SGD, Adam and AdamW on PyTorch multiply each gradient by their {@code rescaleGrad} at the
 * start of the native call that applies it. With that field set to the factor for one update, the
 * weights and the optimizer's state come out bit for bit as if the gradients had been scaled in
 * place, and a read and a write of every gradient are spared: on one 784 x 256 gradient, scaling
 * it before DJL's update added 37-49 µs to the update, folding the factor 11-20 µs (SGD, SGD with
 * weight decay, Adam; one PyTorch thread).
 *
 * <p>Only where that equality holds: one of those three classes exactly (a subclass may update
 * differently), PyTorch, one device, {@code rescaleGrad} at DJL's default 1 (so the product is the
 * very float of the factor) and no element-wise {@code clipGrad} (whose order with the rescale is
 * the native code's). Anywhere else {@link #fold} says no and the caller scales the gradients.
 *
 * <p>Used by one trainer's thread. Every reflective failure disables folding for good and is
 * swallowed: the caller then scales the gradients, as before.
 */
public final class UpdateFactor {

    /** DJL's default {@code rescaleGrad}, and the value put back after each folded update. */
    private static final float JOB_RESCALE = 1f;

    /** By name: a DJL without one of them must still load this class. */
    private static final Set<String> FOLDING = Set.of(
            "ai.djl.training.optimizer.Sgd", "ai.djl.training.optimizer.Adam", "ai.djl.training.optimizer.AdamW");

    private final Optimizer optimizer;
    private final Field rescaleGrad;
    private final Field clipGrad;
    private boolean folded;
    private boolean broken;

    private UpdateFactor(Optimizer optimizer, Field rescaleGrad, Field clipGrad) {
        this.optimizer = optimizer;
        this.rescaleGrad = rescaleGrad;
        this.clipGrad = clipGrad;
    }

    /**
     * The factor of a trainer's updates, where its optimizer can apply one.
     *
     * @param trainer the trainer
     * @return the factor, or null where gradients must be scaled in place
     */
    public static UpdateFactor of(DjlTrainer trainer) {
        try {
            if (trainer.devices().length != 1
                    || !"PyTorch".equals(trainer.manager().getEngine().getEngineName())) {
                return null;
            }
            return of(OptimizerControl.optimizerOf(trainer));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }

    /**
     * The factor of this optimizer's updates (on PyTorch, one device).
     *
     * @param optimizer the optimizer
     * @return the factor, or null for an optimizer whose update is not known to rescale first
     */
    static UpdateFactor of(Optimizer optimizer) {
        if (optimizer == null || !FOLDING.contains(optimizer.getClass().getName())) {
            return null;
        }
        try {
            Field rescale = Optimizer.class.getDeclaredField("rescaleGrad");
            Field clip = Optimizer.class.getDeclaredField("clipGrad");
            rescale.setAccessible(true);
            clip.setAccessible(true);
            return new UpdateFactor(optimizer, rescale, clip);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /**
     * Has the coming update multiply every gradient by this factor.
     *
     * @param factor the factor, as the float the gradients would have been multiplied by
     * @return whether the update will apply it; false when the caller must scale the gradients
     */
    public boolean fold(float factor) {
        if (broken || folded) {
            return false;
        }
        try {
            // Not at the default: the job's own rescale (or another trainer's fold) is in it.
            if (rescaleGrad.getFloat(optimizer) != JOB_RESCALE || clipGrad.getFloat(optimizer) > 0) {
                return false;
            }
            rescaleGrad.setFloat(optimizer, factor);
            folded = true;
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            broken = true;
            return false;
        }
    }

    /** Puts the optimizer's own {@code rescaleGrad} back, once the update ran or was skipped. */
    public void unfold() {
        if (!folded) {
            return;
        }
        folded = false;
        try {
            rescaleGrad.setFloat(optimizer, JOB_RESCALE);
        } catch (ReflectiveOperationException | RuntimeException e) {
            broken = true;
            Console.warn("the optimizer's rescaleGrad could not be put back to 1 after a clipped step (" + e
                    + "); this job's updates stay scaled: restart it without a clipping policy");
        }
    }
}
