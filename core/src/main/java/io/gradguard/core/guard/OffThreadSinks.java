package io.gradguard.core.guard;

import io.gradguard.core.concurrent.DaemonTicker;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The sinks of one trainer, run off its training thread: the training thread puts each report in a
 * ring (a slot write and a volatile store), and the {@code gradguard-sinks} daemon thread hands
 * what is there to the sinks every {@value #DELIVER_MILLIS} ms, in step order. Sinks only record
 * (nothing they do feeds back into a step), so a report reaching them milliseconds later changes
 * nothing but where their time is spent. Run on the training thread they cost under a microsecond
 * each in a hot loop, but in a real job, cold between DJL's own work, a seventh of the agent's time
 * there (profiled on the reference mlp).
 *
 * <p>Deliveries are serialised: the sinks see one report at a time, whichever thread delivers.
 * Before a scrape renders and at exit, {@link #deliverAll} delivers what is pending on the calling
 * thread; when the ring is full the training thread delivers itself, so that no report is lost.
 * Each sink runs under its own fault budget, as it did on the training thread.
 */
public final class OffThreadSinks implements StepSink {

    private static final int SIZE = 1024; // a power of two: slots by mask
    static final long DELIVER_MILLIS = 20;
    private static final Set<OffThreadSinks> LIVE = ConcurrentHashMap.newKeySet();
    private static final DaemonTicker DELIVERER =
            new DaemonTicker("gradguard-sinks", DELIVER_MILLIS, OffThreadSinks::deliverAll);

    /** Makes the sinks, at the first delivery; null once they are made. */
    private Supplier<List<StepSink>> making; // guarded by this

    private List<StepSink> sinks = List.of(); // guarded by this
    private final FaultBudget faults;
    private final StepReport[] ring = new StepReport[SIZE];
    private volatile long written;
    private volatile long delivered;
    private long deliveredNanos; // guarded by this

    /**
     * @param sinks the sinks, in the order each report reaches them
     * @param errors where a failing sink is counted
     */
    public OffThreadSinks(List<StepSink> sinks, AgentErrors errors) {
        this(() -> sinks, errors);
    }

    /**
     * Sinks made at the first delivery, on the thread that delivers (within {@value
     * #DELIVER_MILLIS} ms, the deliverer's): their registration of meters and buffers then costs the
     * trainer's thread nothing when it makes its first trainer. A failure to make them is counted,
     * and the reports go nowhere.
     *
     * @param sinks makes the sinks, in the order each report reaches them
     * @param errors where a failing sink is counted
     */
    public OffThreadSinks(Supplier<List<StepSink>> sinks, AgentErrors errors) {
        this.making = sinks;
        this.faults = new FaultBudget(errors);
        LIVE.add(this);
        DELIVERER.ensureStarted();
    }

    @Override
    public String name() {
        return "sinks";
    }

    /** Training thread only: puts the report in the ring. */
    @Override
    public void accept(StepReport report) {
        long w = written;
        if (w - delivered >= SIZE) {
            deliver();
        }
        ring[(int) (w & (SIZE - 1))] = report;
        written = w + 1; // publishes the slot to the deliverer
    }

    /** Hands every pending report to the sinks, on the calling thread. */
    public synchronized void deliver() {
        long start = System.nanoTime();
        if (making != null) {
            Supplier<List<StepSink>> m = making;
            making = null;
            faults.run("setup", 0, () -> sinks = List.copyOf(m.get()));
        }
        long w = written;
        for (long d = delivered; d < w; d++) {
            int slot = (int) (d & (SIZE - 1));
            StepReport report = ring[slot];
            ring[slot] = null;
            for (StepSink sink : sinks) {
                faults.run(sink.name(), report.step(), () -> sink.accept(report));
            }
            delivered = d + 1;
        }
        deliveredNanos += System.nanoTime() - start;
    }

    /**
     * The sinks' time so far, on whichever thread delivered, per report delivered.
     *
     * @return microseconds per report, NaN before the first
     */
    public synchronized double microsPerReport() {
        return delivered == 0 ? Double.NaN : deliveredNanos / 1000.0 / delivered;
    }

    /** Delivers what every trainer's ring holds: before a scrape renders, and at exit. */
    public static void deliverAll() {
        for (OffThreadSinks s : LIVE) {
            s.deliver();
        }
    }
}
