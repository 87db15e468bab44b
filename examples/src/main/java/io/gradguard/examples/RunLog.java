package io.gradguard.examples;

import ai.djl.training.util.ProgressBar;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What both loops record, through the same code: step numbers, batch timings, losses, accuracy,
 * divergence and the step budget. Keeping one path means easy and manual runs report alike.
 */
final class RunLog {

    private final Options options;
    private final int batchesPerEpoch;
    private final PrintStream out;
    private final List<EpochResult> epochs = new ArrayList<>();
    private long[] stepNanos = new long[1024];

    private int steps;
    private boolean diverged;
    private int divergenceStep = -1;
    private float divergenceLoss;

    private boolean epochOpen;
    private long epochStartNanos;
    private int epochSteps;
    private double epochLossSum;
    private int epochJudgedSteps;
    private long epochCorrect;
    private long epochSeen;
    private ProgressBar progressBar;

    RunLog(Options options, int batchesPerEpoch, PrintStream out) {
        this.options = options;
        this.batchesPerEpoch = batchesPerEpoch;
        this.out = out;
    }

    /** True once no further optimizer step may start: the budget is spent, or divergence stops the run. */
    boolean exhausted() {
        return (options.maxSteps() > 0 && steps >= options.maxSteps()) || (options.stopOnDivergence() && diverged);
    }

    /** Numbers the next optimizer step (1-based), opening an epoch on its first step. */
    int startStep() {
        if (!epochOpen) {
            epochOpen = true;
            epochStartNanos = System.nanoTime();
            epochSteps = 0;
            epochLossSum = 0;
            epochJudgedSteps = 0;
            epochCorrect = 0;
            epochSeen = 0;
            // A progress bar only helps a person watching; in logs it is noise.
            progressBar =
                    System.console() != null ? new ProgressBar("Epoch " + (epochs.size() + 1), batchesPerEpoch) : null;
        }
        epochSteps++;
        return ++steps;
    }

    void recordStepTime(long nanos) {
        if (steps > stepNanos.length) {
            stepNanos = Arrays.copyOf(stepNanos, stepNanos.length * 2);
        }
        stepNanos[steps - 1] = nanos;
    }

    /**
     * Records the batch of the current step; a NaN/Inf loss or one past the bound marks divergence.
     * Batches the data pipeline broke ({@code --nan-steps}, {@code --corrupt-steps}) count for accuracy only,
     * not for loss or divergence.
     */
    void recordBatch(float loss, long correct, long size) {
        epochCorrect += correct;
        epochSeen += size;
        if (options.faults().spoilsBatch(steps)) {
            // A broken batch's loss is NaN or huge by construction; what matters is whether the job recovers.
            return;
        }
        epochLossSum += loss;
        epochJudgedSteps++;
        if (!diverged && (!Float.isFinite(loss) || loss > options.divergenceBound())) {
            diverged = true;
            divergenceStep = steps;
            divergenceLoss = loss;
            out.printf(
                    java.util.Locale.ROOT,
                    "diverged at step %d: loss %s (bound %s)%n",
                    steps,
                    loss,
                    options.divergenceBound());
        }
        if (progressBar != null) {
            progressBar.update(epochSteps, String.format(java.util.Locale.ROOT, "loss %.4f", loss));
        }
    }

    boolean epochOpen() {
        return epochOpen;
    }

    /** Closes the open epoch with its test accuracy and prints its line. */
    EpochResult endEpoch(double testAccuracy) {
        EpochResult result = new EpochResult(
                epochs.size() + 1,
                epochJudgedSteps == 0 ? Double.NaN : epochLossSum / epochJudgedSteps,
                epochSeen == 0 ? 0 : (double) epochCorrect / epochSeen,
                testAccuracy,
                (System.nanoTime() - epochStartNanos) / 1e9,
                epochSteps,
                diverged);
        epochs.add(result);
        epochOpen = false;
        if (progressBar != null) {
            progressBar.end();
        }
        out.println(result.line());
        return result;
    }

    List<EpochResult> epochs() {
        return List.copyOf(epochs);
    }

    int steps() {
        return steps;
    }

    boolean diverged() {
        return diverged;
    }

    /** The first diverged step, or -1. */
    int divergenceStep() {
        return divergenceStep;
    }

    float divergenceLoss() {
        return divergenceLoss;
    }

    /** Median wall time of a training batch (forward, backward, step), in milliseconds; 0 before any. */
    double medianStepMillis() {
        if (steps == 0) {
            return 0;
        }
        long[] sorted = Arrays.copyOf(stepNanos, steps);
        Arrays.sort(sorted);
        double median = steps % 2 == 1 ? sorted[steps / 2] : (sorted[steps / 2 - 1] + sorted[steps / 2]) / 2.0;
        return median / 1e6;
    }
}
