package io.gradguard.core.recorder;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Keys;
import io.gradguard.core.detect.DetectorConfig;
import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The flight recorder of one trainer: the last {@code incidents.steps} steps with every
 * parameter's gradient norm ({@link StepRing}), a running band of each parameter's norm
 * ({@link NormBands}), and, when something goes wrong, one incident file that says what blew up
 * first.
 *
 * <p><b>Incidents.</b> A step opens one when its gradients are not finite ({@code nonfinite}), when
 * the detector calls it an explosion and some parameter is out of its band ({@code explosion}: a
 * healthy run's rare z-score spike, with every parameter inside its band, is not an incident),
 * at the {@value #SKIP_STREAK}th skipped update in a row ({@code skip_streak}), at a rewind of the
 * recovery ladder ({@code rewind}), or when the agent fails the job ({@code failure}). Later steps
 * belong to the same incident until {@value #CALM_STEPS} calm steps in a row (applied, finite, no
 * explosion) close it: they update the file's summary and its list of followers, never a new file.
 *
 * <p><b>First offender.</b> Among the parameters that left their band within the recorded steps,
 * the one that left first; ties (several left at the same step, as an explosion in one layer
 * reaches the others through backpropagation at once) go to the largest excursion over its typical
 * norm, a non-finite norm counting as infinite. The others follow in the same order, then those
 * that leave later while the incident is open.
 *
 * <p><b>Cost.</b> On the training thread, per step: the report's figures (already on the host)
 * copied into preallocated arrays, one logarithm per parameter: no native call, no
 * allocation. Arrays are made anew only when the trainable set changes. An incident copies the
 * ring and hands it to the {@link IncidentWriter}'s thread: the training thread never waits on the
 * disk.
 */
public final class FlightRecorder implements StepSink {

    /** Skipped updates in a row that make an incident. */
    static final int SKIP_STREAK = 3;
    /** Calm steps in a row that close an incident. */
    static final int CALM_STEPS = 50;

    private static final int NONFINITE = 1;
    private static final int EXPLOSION = 2;
    private static final int SKIP = 4;
    private static final int REWIND = 8;
    private static final int FAILURE = 16;

    /** Ties of one step: the largest excursion over its typical norm first. */
    private static final Comparator<Incident.Offender> LARGEST_FIRST =
            Comparator.comparingDouble(Incident.Offender::excursion).reversed();

    private final String model;
    private final String run;
    private final int capacity;
    private final DetectorConfig detector;
    private final IncidentWriter writer;
    private final Consumer<IncidentNotice> listener;
    private final Map<String, String> config;
    private final Counter[] incidents = new Counter[Incident.TRIGGERS.size()];
    private Map<String, String> versions;

    private String[] names = new String[0];
    private StepRing ring;
    private NormBands bands;
    private int skipRun;

    // The open incident, if any.
    private Incident open;
    private boolean[] listed;
    private final List<Incident.Offender> followers = new ArrayList<>();
    private final long[] events = new long[Incident.TRIGGERS.size()];
    private long incidentSteps;
    private long skipped;
    private double maxNorm;
    private long maxNormStep;
    private int calm;

    /**
     * Creates the recorder of one trainer and its {@code gradguard_incidents_total{trigger}}
     * counters (at 0).
     *
     * @param registry where the counters live
     * @param model the model label
     * @param config the agent's configuration: {@code incidents.steps}, the detector's
     *     {@code spike_z}, and the keys set, which every incident file lists
     * @param writer writes the files on its own thread
     * @param listener told of each incident file written (the live page), on the writer's thread
     */
    public FlightRecorder(
            MeterRegistry registry,
            String model,
            GradGuardConfig config,
            IncidentWriter writer,
            Consumer<IncidentNotice> listener) {
        this.model = model;
        this.run = config.run();
        this.capacity = config.get(Keys.INCIDENTS_STEPS);
        this.detector = DetectorConfig.from(config);
        this.writer = writer;
        this.listener = listener;
        this.config = JobDescription.setKeys(config);
        for (int t = 0; t < incidents.length; t++) {
            incidents[t] = Counter.builder("gradguard.incidents")
                    .description("incidents written by the flight recorder")
                    .tags("model", model, "run", run, "trigger", Incident.TRIGGERS.get(t))
                    .register(registry);
        }
    }

    @Override
    public String name() {
        return "incidents";
    }

    @Override
    public void accept(StepReport r) {
        StepStats stats = r.stats();
        List<ParameterStats> parameters = stats.parameters();
        if (!sameSet(parameters)) {
            newSet(parameters);
        }
        boolean anyOut = ring.record(r, bands);
        if (!r.counted()) {
            return; // DJL's own update threw: recorded, but not a step of an incident
        }
        skipRun = r.skipped() ? skipRun + 1 : 0;
        int found = (stats.nonFinite() ? NONFINITE : 0)
                | (r.detection().explosion() ? EXPLOSION : 0)
                | (skipRun == SKIP_STREAK ? SKIP : 0)
                | (r.recovery() != null && r.recovery().action() == RecoveryAction.REWIND ? REWIND : 0)
                | (r.action() == StepAction.FAILED ? FAILURE : 0);
        if (open != null) {
            follow(r, found);
        } else if ((found & ~EXPLOSION) != 0 || (found != 0 && anyOut)) {
            open(r, found);
        }
    }

    /** The names of one trainable set are the same instances at every step: compared by identity. */
    private boolean sameSet(List<ParameterStats> parameters) {
        if (ring == null || parameters.size() != names.length) {
            return false;
        }
        for (int i = 0; i < names.length; i++) {
            if (parameters.get(i).name() != names[i]) {
                return false;
            }
        }
        return true;
    }

    private void newSet(List<ParameterStats> parameters) {
        names = new String[parameters.size()];
        for (int i = 0; i < names.length; i++) {
            names[i] = parameters.get(i).name();
        }
        ring = new StepRing(capacity, names.length);
        bands = new NormBands(names.length, detector.spikeZ(), detector.alpha(), detector.warmupSteps());
        listed = new boolean[names.length];
    }

    private void open(StepReport r, int found) {
        String trigger = Incident.TRIGGERS.get(Integer.numberOfTrailingZeros(found));
        long since = ring.oldestStep();
        java.util.Arrays.fill(listed, false);
        followers.clear();
        for (int i = 0; i < names.length; i++) {
            if (bands.leftAt(i) >= since && bands.leftAt(i) > 0) {
                followers.add(offender(i));
                listed[i] = true;
            } else if (bands.out(i)) {
                listed[i] = true; // out since before the recorded steps: not part of this incident
            }
        }
        followers.sort(Comparator.comparingLong(Incident.Offender::step).thenComparing(LARGEST_FIRST));
        Incident.Offender first = followers.isEmpty() ? null : followers.remove(0);
        java.util.Arrays.fill(events, 0);
        incidentSteps = 0;
        skipped = 0;
        maxNorm = Double.NaN;
        maxNormStep = 0;
        calm = 0;
        if (versions == null) {
            versions = JobDescription.versions();
        }
        open = new Incident(
                model,
                run,
                r.step(),
                r.wallMillis(),
                trigger,
                ring.snapshot(List.of(names)),
                first,
                config,
                versions,
                null,
                listener,
                incidents[Incident.TRIGGERS.indexOf(trigger)]::increment);
        count(r, found);
        open.summary(summary(r, true));
        writer.open(open);
    }

    private void follow(StepReport r, int found) {
        boolean changed = found != 0;
        int before = followers.size();
        for (int i = 0; i < names.length; i++) {
            if (bands.out(i) && !listed[i]) {
                listed[i] = true;
                followers.add(offender(i));
            }
        }
        if (followers.size() > before) {
            changed = true;
            // those that left at this same step: the largest excursion first, as at the opening
            followers.subList(before, followers.size()).sort(LARGEST_FIRST);
        }
        count(r, found);
        boolean calmStep = found == 0 && r.action() == StepAction.APPLIED;
        calm = calmStep ? calm + 1 : 0;
        boolean closes = calm >= CALM_STEPS;
        if (changed || closes) {
            open.summary(summary(r, !closes));
            writer.changed(open);
        }
        if (closes) {
            open = null;
        }
    }

    private void count(StepReport r, int found) {
        incidentSteps++;
        for (int t = 0; t < events.length; t++) {
            if ((found & (1 << t)) != 0) {
                events[t]++;
            }
        }
        if (r.skipped()) {
            skipped++;
        }
        double g = r.stats().globalNorm();
        if (Double.isFinite(g) && !(g <= maxNorm)) {
            maxNorm = g;
            maxNormStep = r.step();
        }
    }

    private Incident.Summary summary(StepReport r, boolean stillOpen) {
        double lr = r.recovery() == null ? 1.0 : r.recovery().lrScale();
        return new Incident.Summary(
                stillOpen,
                r.step(),
                incidentSteps,
                events.clone(),
                skipped,
                maxNorm,
                maxNormStep,
                lr,
                stillOpen ? 0 : r.step(),
                List.copyOf(followers));
    }

    private Incident.Offender offender(int i) {
        return new Incident.Offender(
                names[i], bands.leftAt(i), bands.leftNorm(i), bands.leftTypical(i), bands.leftUpper(i));
    }
}
