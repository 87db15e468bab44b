package io.gradguard.core.log;

import io.gradguard.core.stats.ParameterStats;
import java.util.ArrayList;
import java.util.List;

/**
 * One optimizer step as written to the {@code log=FILE} step log: one JSON object per line.
 *
 * @param model the model label of the trainer that took the step
 * @param step the step index (1-based, as the guard counts them)
 * @param timeMillis wall-clock time of the step, epoch milliseconds
 * @param loss the mean loss passed to backward since the previous step; NaN when the job computes none
 * @param globalNorm L2 norm of all gradients before clipping
 * @param clippedGlobalNorm the same after the policy acted
 * @param clipCoefficient the factor applied to the global gradient (1 = untouched)
 * @param skipped whether the optimizer update was skipped
 * @param skipReason why it was skipped (e.g. {@code nonfinite}); null when not skipped
 * @param explosion whether the detector saw an explosion at this step
 * @param vanishing whether the detector saw vanishing gradients at this step
 * @param zScore z-score of the global norm against its running mean; NaN while warming up
 * @param topParameters the parameters with the largest gradient norms, largest first (see {@link #topK})
 */
public record StepRecord(
        String model,
        long step,
        long timeMillis,
        double loss,
        double globalNorm,
        double clippedGlobalNorm,
        double clipCoefficient,
        boolean skipped,
        String skipReason,
        boolean explosion,
        boolean vanishing,
        double zScore,
        List<ParameterNorm> topParameters) {

    /** How many parameters a record names by default. */
    public static final int DEFAULT_TOP = 5;

    /**
     * Creates a record; a null {@code topParameters} is read as none.
     */
    public StepRecord {
        topParameters = topParameters == null ? List.of() : topParameters;
    }

    /**
     * One parameter's gradient norm.
     *
     * @param name DJL parameter name
     * @param norm L2 norm of its gradient before clipping (NaN or Inf when not finite)
     */
    public record ParameterNorm(String name, double norm) {}

    /**
     * The {@code k} parameters with the largest gradient norms, largest first. A non-finite norm
     * ranks above every finite one (NaN first, then Inf): those are the parameters a reader of a
     * crashed job's log looks for.
     *
     * <p>A partial selection, O(n·k) with no sorting of the whole list: k is small and n can be
     * hundreds of parameters, at every step.
     *
     * @param stats one step's per-parameter statistics
     * @param k how many to keep; 0 or less gives an empty list
     * @return at most {@code k} entries, largest norm first; ties keep the parameters' order
     */
    public static List<ParameterNorm> topK(List<ParameterStats> stats, int k) {
        int n = Math.min(k, stats.size());
        if (n <= 0) {
            return List.of();
        }
        int[] chosen = new int[n];
        int size = 0;
        for (int i = 0; i < stats.size(); i++) {
            double norm = stats.get(i).gradNorm();
            // Position where this parameter belongs among the chosen ones (stable: strictly greater).
            int at = size;
            while (at > 0 && Double.compare(norm, stats.get(chosen[at - 1]).gradNorm()) > 0) {
                at--;
            }
            if (at >= n) {
                continue;
            }
            int last = Math.min(size, n - 1);
            System.arraycopy(chosen, at, chosen, at + 1, last - at);
            chosen[at] = i;
            if (size < n) {
                size++;
            }
        }
        List<ParameterNorm> out = new ArrayList<>(size);
        for (int j = 0; j < size; j++) {
            ParameterStats p = stats.get(chosen[j]);
            out.add(new ParameterNorm(p.name(), p.gradNorm()));
        }
        return List.copyOf(out);
    }
}
