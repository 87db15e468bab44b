package io.gradguard.core.recovery;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.console.Console;

/**
 * Refuses {@code Model.save} while the model's weights hold NaN or Inf, so that a diverged run does
 * not overwrite the last good checkpoint (a save from the job's own code or from DJL's checkpoint
 * listener alike). One line says which parameter and how to save anyway.
 */
public final class PoisonedSave {

    private PoisonedSave() {}

    /**
     * Whether to refuse this save.
     *
     * @param config the configuration ({@code recovery.refuse_poisoned_save})
     * @param model the model being saved
     * @return true when refused (and said)
     */
    public static boolean refuse(GradGuardConfig config, Model model) {
        if (!config.get(RecoveryKeys.REFUSE_POISONED_SAVE)) {
            return false;
        }
        String poisoned = firstNonFinite(model.getBlock());
        if (poisoned == null) {
            return false;
        }
        Console.warn("refused Model.save of " + model.getName() + ": its weights hold NaN/Inf (" + poisoned
                + "); the file on disk is left as it was (recovery.refuse_poisoned_save=false saves anyway)");
        return true;
    }

    /** The first parameter whose weights are not all finite, or null: one reduction each. */
    static String firstNonFinite(Block block) {
        if (block == null) {
            return null;
        }
        for (Pair<String, Parameter> p : block.getParameters()) {
            Parameter parameter = p.getValue();
            if (!parameter.isInitialized()) {
                continue;
            }
            NDArray weights = parameter.getArray();
            try (NDManager scratch = weights.getManager().newSubManager()) {
                NDArray abs = weights.abs();
                abs.attach(scratch);
                NDArray max = abs.max();
                max.attach(scratch);
                if (!Float.isFinite(
                        max.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).getFloat())) {
                    return p.getKey();
                }
            }
        }
        return null;
    }
}
