package io.gradguard.core.recorder;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One incident: what the recorder held when it opened (immutable), and its summary as later steps
 * of the same incident change it (published by the training thread, read by the writer's).
 */
final class Incident {

    /** The incident's triggers, in the order a step with several names its trigger: cause before consequence. */
    static final List<String> TRIGGERS = List.of("nonfinite", "explosion", "skip_streak", "rewind", "failure");

    final String model;
    final String run;
    final long step;
    final long wallMillis;
    final String trigger;
    final StepRing.Recorded ring;
    final Offender firstOffender;
    final Map<String, String> config;
    final Map<String, String> versions;
    final Consumer<IncidentNotice> listener;
    /** Counts the incident in {@code gradguard_incidents_total} once its file exists. */
    final Runnable counter;

    private volatile Summary summary;

    /** Whether the writer has it queued: a change while queued needs no second entry. */
    final AtomicBoolean queued = new AtomicBoolean();
    // The writer thread's own.
    Path file;
    long lastWriteNanos;
    /** Dropped or given up: never written again (set by either thread). */
    volatile boolean abandoned;

    Incident(
            String model,
            String run,
            long step,
            long wallMillis,
            String trigger,
            StepRing.Recorded ring,
            Offender firstOffender,
            Map<String, String> config,
            Map<String, String> versions,
            Summary summary,
            Consumer<IncidentNotice> listener,
            Runnable counter) {
        this.model = model;
        this.run = run;
        this.step = step;
        this.wallMillis = wallMillis;
        this.trigger = trigger;
        this.ring = ring;
        this.firstOffender = firstOffender;
        this.config = config;
        this.versions = versions;
        this.summary = summary;
        this.listener = listener;
        this.counter = counter;
    }

    Summary summary() {
        return summary;
    }

    void summary(Summary next) {
        summary = next;
    }

    /**
     * A parameter that left its band.
     *
     * @param parameter its name
     * @param step the step at which it left
     * @param norm its gradient norm then
     * @param typical its band's geometric mean then (NaN: no history yet)
     * @param upper its band's upper bound then (NaN: no history yet)
     */
    record Offender(String parameter, long step, double norm, double typical, double upper) {

        /**
         * How far out it was, in ln units over its typical norm; infinite for a non-finite norm
         * (or one without history, which only a non-finite norm can be out of band with).
         */
        double excursion() {
            return Double.isFinite(norm) && !Double.isNaN(typical)
                    ? Math.log(norm / typical)
                    : Double.POSITIVE_INFINITY;
        }
    }

    /**
     * The incident so far.
     *
     * @param open whether it is still open
     * @param lastStep the last step seen
     * @param steps steps since it opened, that one included
     * @param events per trigger in {@link #TRIGGERS} order, how many steps had it
     * @param skipped skipped updates
     * @param maxGlobalNorm the largest finite pre-clip global norm
     * @param maxGlobalNormStep where it was
     * @param lrScale the recovery ladder's factor on the learning rate at the last step
     * @param closedAt the step at which it closed (after calm steps), or 0
     * @param followers the parameters that left their bands after the first offender, in order
     */
    record Summary(
            boolean open,
            long lastStep,
            long steps,
            long[] events,
            long skipped,
            double maxGlobalNorm,
            long maxGlobalNormStep,
            double lrScale,
            long closedAt,
            List<Offender> followers) {}
}
