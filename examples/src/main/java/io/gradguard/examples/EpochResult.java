package io.gradguard.examples;

/**
 * One finished epoch.
 *
 * @param loss mean batch loss, poisoned batches left out (NaN once any other batch loss was NaN)
 * @param seconds wall time of the epoch's training plus its test evaluation
 * @param steps optimizer steps taken in this epoch
 */
record EpochResult(
        int epoch,
        double loss,
        double trainAccuracy,
        double testAccuracy,
        double seconds,
        int steps,
        boolean diverged) {

    String line() {
        return String.format(
                java.util.Locale.ROOT,
                "epoch %d: loss %.4f, train acc %.4f, test acc %.4f, %.1f s, %d steps, diverged %s",
                epoch,
                loss,
                trainAccuracy,
                testAccuracy,
                seconds,
                steps,
                diverged);
    }
}
