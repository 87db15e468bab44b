package io.gradguard.core.guard;

import io.gradguard.core.console.Console;
import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.recovery.RecoveryStatus;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import java.util.Locale;

/**
 * The console: a summary line every {@code summary} seconds, and a line when a step's update is
 * skipped (the first of each streak), so that a skip is never silent. Printed from the training
 * thread when due: no timer thread competes with PyTorch's.
 */
public final class SummarySink implements StepSink {

    private final long intervalNanos;
    private long nextAt;
    private long stepsInWindow;
    private long clippedInWindow;
    private long skippedTotal;
    private long spikesTotal;

    /**
     * Creates the console sink.
     *
     * @param seconds seconds between summary lines; 0 = none (skips are still said)
     */
    public SummarySink(int seconds) {
        intervalNanos = seconds * 1_000_000_000L;
        nextAt = System.nanoTime() + intervalNanos;
    }

    @Override
    public String name() {
        return "summary";
    }

    @Override
    public void accept(StepReport r) {
        if (!r.counted()) {
            return;
        }
        if (r.detection().explosion()) {
            spikesTotal++;
        }
        if (r.skipped()) {
            skippedTotal++;
            if (r.consecutiveSkips() == 1) {
                Console.info(String.format(
                        Locale.ROOT,
                        "%s step %d: gradients not finite (%s); update skipped (%s)",
                        r.model(),
                        r.step(),
                        firstNonFinite(r),
                        "on_nonfinite=" + r.policy().onNonfinite()));
            }
        }
        if (r.clip().clipped()) {
            clippedInWindow++;
        }
        RecoveryStatus recovery = r.recovery();
        if (recovery != null && recovery.action() != RecoveryAction.NONE) {
            Console.info(String.format(
                    Locale.ROOT,
                    "%s step %d: %s (%s); learning rate x%.4g%s",
                    r.model(),
                    r.step(),
                    recovery.action().name().toLowerCase(Locale.ROOT),
                    recovery.why(),
                    recovery.lrScale(),
                    recovery.rewoundSteps() > 0 ? ", " + recovery.rewoundSteps() + " steps undone" : ""));
        }
        if (intervalNanos <= 0) {
            return;
        }
        stepsInWindow++;
        long now = System.nanoTime();
        if (now < nextAt) {
            return;
        }
        double clipRate = 100.0 * clippedInWindow / stepsInWindow;
        Console.info(String.format(
                Locale.ROOT,
                "%s step %d loss %.4g global_norm %.4g clip_rate %.1f%% skipped %d spikes %d",
                r.model(),
                r.step(),
                r.loss(),
                r.stats().globalNorm(),
                clipRate,
                skippedTotal,
                spikesTotal));
        stepsInWindow = 0;
        clippedInWindow = 0;
        nextAt = now + intervalNanos;
    }

    private static String firstNonFinite(StepReport r) {
        int count = 0;
        String first = null;
        for (ParameterStats p : r.stats().parameters()) {
            if (p.nonFinite()) {
                count++;
                first = first == null ? p.name() : first;
            }
        }
        return first == null ? "global norm overflowed" : count == 1 ? first : first + " and " + (count - 1) + " more";
    }
}
