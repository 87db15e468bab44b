package io.gradguard.core.guard;

import io.gradguard.core.stats.StepStats;

import java.util.Locale;

/**
 * The periodic one-line console summary on stderr. Printed from the training thread when the
 * interval has passed: no timer thread competes with PyTorch's.
 */
final class StepSummary {

    private final long intervalNanos;
    private long nextAt;
    private long stepsInWindow;
    private long clippedInWindow;
    private long skippedTotal;
    private long spikesTotal;
    private double loss = Double.NaN;

    StepSummary(int seconds) {
        intervalNanos = seconds * 1_000_000_000L;
        nextAt = System.nanoTime() + intervalNanos;
    }

    void loss(double value) {
        loss = value;
    }

    void skipped() {
        skippedTotal++;
    }

    void spike() {
        spikesTotal++;
    }

    void clipped() {
        clippedInWindow++;
    }

    void maybePrint(long step, StepStats stats) {
        if (intervalNanos <= 0) {
            return;
        }
        stepsInWindow++;
        long now = System.nanoTime();
        if (now < nextAt) {
            return;
        }
        double clipRate = stepsInWindow == 0 ? 0 : 100.0 * clippedInWindow / stepsInWindow;
        System.err.println(
                String.format(
                        Locale.ROOT,
                        "[gradguard] step %d loss %.4g global_norm %.4g clip_rate %.1f%% skipped %d spikes %d",
                        step,
                        loss,
                        stats == null ? Double.NaN : stats.globalNorm(),
                        clipRate,
                        skippedTotal,
                        spikesTotal));
        stepsInWindow = 0;
        clippedInWindow = 0;
        nextAt = now + intervalNanos;
    }
}
