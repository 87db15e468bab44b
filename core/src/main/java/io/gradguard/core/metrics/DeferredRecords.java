package io.gradguard.core.metrics;

import io.gradguard.core.concurrent.DaemonTicker;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Timer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The per-step values of the two meters that are costly to record: the overhead timer keeps its
 * quantiles in rotating HdrHistograms under a lock, and the norm histogram searches its buckets.
 * Recorded with each report they cost about 20 us a step on the reference MLP (profiled), more
 * than everything else the metrics do: on the training thread where an engine is given the metrics
 * sink directly, on the sinks' thread in the agent. The sink writes them into a ring instead; they
 * reach the meters on the {@code gradguard-metrics} daemon thread every 100 ms, before each scrape
 * and exit summary ({@link #drainAll}), and on the writer's thread itself when the ring is full, so
 * that none is lost and no count lags by more than that.
 *
 * <p>One writer at a time per instance (the metrics sink, whose reports come one at a time); draining
 * is synchronized.
 */
final class DeferredRecords {

    private static final int SIZE = 4096; // a power of two: slots by mask
    private static final long DRAIN_MILLIS = 100;
    private static final Set<DeferredRecords> LIVE = ConcurrentHashMap.newKeySet();
    // a meter that throws loses its batch, never the thread: the next drain goes on
    private static final DaemonTicker DRAINER =
            new DaemonTicker("gradguard-metrics", DRAIN_MILLIS, DeferredRecords::drainAll);

    private final Timer overhead;
    private final DistributionSummary globalNorms;
    private final long[] nanos = new long[SIZE];
    private final double[] norms = new double[SIZE];
    private volatile long written;
    private volatile long drained;

    DeferredRecords(Timer overhead, DistributionSummary globalNorms) {
        this.overhead = overhead;
        this.globalNorms = globalNorms;
        LIVE.add(this);
        DRAINER.ensureStarted();
    }

    /**
     * One step's values; from the metrics sink only.
     *
     * @param overheadNanos the agent's own time at the step
     * @param globalNorm the norm for the histogram, or NaN when the step records none
     */
    void add(long overheadNanos, double globalNorm) {
        long w = written;
        if (w - drained >= SIZE) {
            drain();
        }
        int slot = (int) (w & (SIZE - 1));
        nanos[slot] = overheadNanos;
        norms[slot] = globalNorm;
        written = w + 1; // publishes the slot to the drainer
    }

    /** Records what was written since the last drain into the meters. */
    synchronized void drain() {
        long w = written;
        try {
            for (long d = drained; d < w; d++) {
                int slot = (int) (d & (SIZE - 1));
                overhead.record(nanos[slot], TimeUnit.NANOSECONDS);
                if (!Double.isNaN(norms[slot])) {
                    globalNorms.record(norms[slot]);
                }
            }
        } finally {
            drained = w; // a meter that threw loses the rest of this batch, never records one twice
        }
    }

    /** Drains every live instance: before a scrape renders, so that it sees every step so far. */
    static void drainAll() {
        for (DeferredRecords r : LIVE) {
            r.drain();
        }
    }
}
