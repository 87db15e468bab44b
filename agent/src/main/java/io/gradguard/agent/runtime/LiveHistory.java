package io.gradguard.agent.runtime;

import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.recovery.RecoveryStatus;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The recent steps of every trainer of the JVM, kept in memory for the live page: one
 * {@link Track} per trainer (the sink of its engine), each a set of preallocated ring buffers.
 *
 * <p>The training thread copies a report's figures into the next ring slot and never waits: no
 * lock, no allocation after the first step, two volatile writes. Readers (the endpoint's workers)
 * copy slots out without stopping the writer and then discard whatever the writer may have
 * overwritten meanwhile (a sequence lock on the ring's write cursor), so a slow or stuck reader
 * costs training nothing.
 */
final class LiveHistory {

    /** Steps kept per trainer: a power of two, so a slot is an index mask away. */
    static final int STEPS = 2048;
    /** Trainers shown; past this, the one that stepped least recently is dropped from the page. */
    static final int MAX_TRACKS = 16;
    /** Incidents kept per trainer. */
    static final int MAX_INCIDENTS = 50;

    /** The bits of a row's flags. */
    static final int SKIPPED = 1;

    static final int EXPLOSION = 2;
    static final int VANISHING = 4;
    static final int CLIPPED = 8;
    static final int NONFINITE = 16;
    static final int FAILED = 32;

    private final int capacity;
    private final Pattern parameterFilter;
    private final int maxParameters;
    private final List<Track> tracks = new ArrayList<>();
    private int nextId = 1;

    /**
     * @param capacity steps kept per trainer, a power of two
     * @param parameterFilter parameters shown in the heatmap (the allow-list of per-parameter series)
     * @param maxParameters cap on parameters shown (that of per-parameter series)
     */
    LiveHistory(int capacity, Pattern parameterFilter, int maxParameters) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.capacity = capacity;
        this.parameterFilter = parameterFilter;
        this.maxParameters = maxParameters;
    }

    /** The history of one new trainer; its sink goes into that trainer's engine. */
    synchronized Track newTrack(String model) {
        if (tracks.size() >= MAX_TRACKS) {
            Track stalest = tracks.get(0);
            for (Track t : tracks) {
                if (t.lastWallMillis() < stalest.lastWallMillis()) {
                    stalest = t;
                }
            }
            tracks.remove(stalest);
        }
        Track t = new Track(nextId++, model, capacity, parameterFilter, maxParameters);
        tracks.add(t);
        return t;
    }

    /** The tracks shown, oldest first. */
    synchronized List<Track> tracks() {
        return List.copyOf(tracks);
    }

    /** What the recovery ladder reports of its state (the live page shows the latest). */
    record Recovery(String state, double lrScale, long rewinds, long backoffs) {}

    /** One flight-recorder incident. */
    record Incident(long step, String trigger, String file, String firstOffender) {}

    /**
     * The rows a reader copied out, oldest first, all columns aligned; {@code gradNorms[j][i]} is
     * parameter j at row i.
     */
    record Rows(
            long[] step,
            long[] wallMillis,
            double[] loss,
            double[] globalNorm,
            double[] clippedNorm,
            double[] coefficient,
            double[] zScore,
            long[] agentNanos,
            byte[] flags,
            long[] skippedTotal,
            long[] clippedTotal,
            long[] explosionsTotal,
            long[] vanishingTotal,
            float[][] gradNorms) {

        int size() {
            return step.length;
        }
    }

    /** One trainer's history and the {@link StepSink} that fills it. */
    static final class Track implements StepSink {

        private final int id;
        private final String model;
        private final int capacity;
        private final int mask;
        private final Pattern parameterFilter;
        private final int maxParameters;

        private final long[] step;
        private final long[] wallMillis;
        private final double[] loss;
        private final double[] globalNorm;
        private final double[] clippedNorm;
        private final double[] coefficient;
        private final double[] zScore;
        private final long[] agentNanos;
        private final byte[] flags;
        private final long[] skippedTotal;
        private final long[] clippedTotal;
        private final long[] explosionsTotal;
        private final long[] vanishingTotal;

        // Set once, at the first step (the parameter set is known only then); published by the
        // write cursor like the rows.
        private String[] parameterNames;
        private int[] parameterIndex; // position in the report's parameter list of each shown parameter
        private float[] gradNorms; // capacity x shown parameters, row-major

        // Written by the training thread only.
        private long rows;
        private long skipped;
        private long clipped;
        private long explosions;
        private long vanishing;

        /** Rows whose slots the writer has started to fill (the sequence lock's "begin"). */
        private volatile long claimed;
        /** Rows complete and readable. */
        private volatile long published;

        private final long createdMillis = System.currentTimeMillis();
        private volatile PolicyDescription policy;
        private volatile Recovery recovery;
        private long rewinds;
        private long backoffs;
        private final ArrayDeque<Incident> incidents = new ArrayDeque<>();

        Track(int id, String model, int capacity, Pattern parameterFilter, int maxParameters) {
            this.id = id;
            this.model = model;
            this.capacity = capacity;
            this.mask = capacity - 1;
            this.parameterFilter = parameterFilter;
            this.maxParameters = maxParameters;
            step = new long[capacity];
            wallMillis = new long[capacity];
            loss = new double[capacity];
            globalNorm = new double[capacity];
            clippedNorm = new double[capacity];
            coefficient = new double[capacity];
            zScore = new double[capacity];
            agentNanos = new long[capacity];
            flags = new byte[capacity];
            skippedTotal = new long[capacity];
            clippedTotal = new long[capacity];
            explosionsTotal = new long[capacity];
            vanishingTotal = new long[capacity];
        }

        @Override
        public String name() {
            return "live_page";
        }

        @Override
        public void accept(StepReport r) {
            if (!r.counted()) {
                return; // DJL threw: the step is repeated under the same number
            }
            RecoveryStatus ladder = r.recovery();
            if (ladder != null) {
                rewinds += ladder.action() == RecoveryAction.REWIND ? 1 : 0;
                backoffs += ladder.action() == RecoveryAction.BACKOFF ? 1 : 0;
                Recovery last = recovery;
                // a new object only when something changed: the page reads it from another thread
                if (last == null
                        || !last.state().equals(ladder.state())
                        || last.lrScale() != ladder.lrScale()
                        || last.rewinds() != rewinds
                        || last.backoffs() != backoffs) {
                    recovery = new Recovery(ladder.state(), ladder.lrScale(), rewinds, backoffs);
                }
            }
            List<ParameterStats> params = r.stats().parameters();
            if (gradNorms == null) {
                chooseParameters(params);
            }
            long row = rows;
            int slot = (int) (row & mask);
            claimed = row + 1;
            // The slot's old contents may be read until here; no store below may move above this line.
            VarHandle.storeStoreFence();
            int f = 0;
            if (r.skipped()) {
                f |= SKIPPED;
                skipped++;
            }
            if (r.action() == StepAction.FAILED) {
                f |= FAILED;
            }
            if (r.clip().clipped()) {
                f |= CLIPPED;
                clipped++;
            }
            if (r.detection().explosion()) {
                f |= EXPLOSION;
                explosions++;
            }
            if (r.detection().vanishing()) {
                f |= VANISHING;
                vanishing++;
            }
            if (r.stats().nonFinite()) {
                f |= NONFINITE;
            }
            step[slot] = r.step();
            wallMillis[slot] = r.wallMillis();
            loss[slot] = r.loss();
            globalNorm[slot] = r.stats().globalNorm();
            clippedNorm[slot] = r.clip().clippedGlobalNorm();
            coefficient[slot] = r.clip().coefficient();
            zScore[slot] = r.detection().zScore();
            agentNanos[slot] = r.agentNanos();
            flags[slot] = (byte) f;
            skippedTotal[slot] = skipped;
            clippedTotal[slot] = clipped;
            explosionsTotal[slot] = explosions;
            vanishingTotal[slot] = vanishing;
            int shown = parameterIndex.length;
            int base = slot * shown;
            for (int j = 0; j < shown; j++) {
                int at = parameterIndex[j];
                ParameterStats p = at < params.size() ? params.get(at) : null;
                // The same String instance step after step: equals() returns at its first check.
                gradNorms[base + j] =
                        p != null && p.name().equals(parameterNames[j]) ? (float) p.gradNorm() : Float.NaN;
            }
            if (r.policy() != policy) {
                policy = r.policy();
            }
            rows = row + 1;
            published = row + 1;
        }

        private void chooseParameters(List<ParameterStats> params) {
            List<String> names = new ArrayList<>();
            List<Integer> index = new ArrayList<>();
            for (int i = 0; i < params.size() && names.size() < maxParameters; i++) {
                String name = params.get(i).name();
                if (parameterFilter.matcher(name).matches()) {
                    names.add(name);
                    index.add(i);
                }
            }
            parameterNames = names.toArray(new String[0]);
            parameterIndex = index.stream().mapToInt(Integer::intValue).toArray();
            gradNorms = new float[capacity * parameterNames.length];
        }

        int id() {
            return id;
        }

        String model() {
            return model;
        }

        /** When this trainer last stepped (or was made); read racily, good enough to pick the stalest. */
        long lastWallMillis() {
            long end = published;
            return end == 0 ? createdMillis : wallMillis[(int) ((end - 1) & mask)];
        }

        PolicyDescription policy() {
            return policy;
        }

        /** The shown parameters' names, or an empty list before the first step. */
        List<String> parameters() {
            return published == 0 ? List.of() : List.of(parameterNames);
        }

        /** The latest state of the recovery ladder, or null when it reported none. */
        Recovery recovery() {
            return recovery;
        }

        /**
         * Records the recovery ladder's state (from whichever thread runs the ladder).
         *
         * @param state the ladder's latest state
         */
        void recovery(Recovery state) {
            recovery = state;
        }

        /**
         * Records an incident the flight recorder wrote.
         *
         * @param incident the incident
         */
        void incident(Incident incident) {
            synchronized (incidents) {
                if (incidents.size() == MAX_INCIDENTS) {
                    incidents.removeFirst();
                }
                incidents.addLast(incident);
            }
        }

        /** The incidents recorded, oldest first (the last {@link #MAX_INCIDENTS}). */
        List<Incident> incidents() {
            synchronized (incidents) {
                return List.copyOf(incidents);
            }
        }

        /**
         * Copies out the rows after a step, oldest first: at most {@code limit}, the newest ones.
         * Never blocks the writer: rows it overwrote while they were being copied are left out.
         *
         * @param afterStep rows with a step above this one; 0 for every row kept
         * @param limit most rows returned
         */
        Rows after(long afterStep, int limit) {
            for (int attempt = 0; ; attempt++) {
                long end = published;
                long start = Math.max(0, end - capacity);
                start = Math.max(start, end - limit);
                start = firstAfter(start, end, afterStep);
                Rows copy = copy(start, end);
                // Every slot read above must be read before the writer's cursor is looked at again.
                VarHandle.acquireFence();
                long overwrittenBelow = claimed - capacity;
                if (overwrittenBelow <= start || attempt == 1) {
                    return drop(copy, start, overwrittenBelow, afterStep);
                }
                // The writer lapped the copy (a reader stalled for a whole ring): once more, from the new end.
            }
        }

        /** The first row index in [from, end) whose step is above {@code afterStep} (steps only grow). */
        private long firstAfter(long from, long end, long afterStep) {
            long lo = from;
            long hi = end;
            while (lo < hi) {
                long mid = (lo + hi) >>> 1;
                if (step[(int) (mid & mask)] > afterStep) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            // A slot being overwritten reads as a newer step: the search then stops early, which costs a
            // few rows more in the copy, never one too few; drop() removes them.
            return lo;
        }

        private Rows copy(long from, long end) {
            int n = (int) (end - from);
            float[][] grads = new float[parameterNames == null ? 0 : parameterNames.length][n];
            Rows c = new Rows(
                    new long[n],
                    new long[n],
                    new double[n],
                    new double[n],
                    new double[n],
                    new double[n],
                    new double[n],
                    new long[n],
                    new byte[n],
                    new long[n],
                    new long[n],
                    new long[n],
                    new long[n],
                    grads);
            for (int i = 0; i < n; i++) {
                int slot = (int) ((from + i) & mask);
                c.step()[i] = step[slot];
                c.wallMillis()[i] = wallMillis[slot];
                c.loss()[i] = loss[slot];
                c.globalNorm()[i] = globalNorm[slot];
                c.clippedNorm()[i] = clippedNorm[slot];
                c.coefficient()[i] = coefficient[slot];
                c.zScore()[i] = zScore[slot];
                c.agentNanos()[i] = agentNanos[slot];
                c.flags()[i] = flags[slot];
                c.skippedTotal()[i] = skippedTotal[slot];
                c.clippedTotal()[i] = clippedTotal[slot];
                c.explosionsTotal()[i] = explosionsTotal[slot];
                c.vanishingTotal()[i] = vanishingTotal[slot];
                int base = slot * grads.length;
                for (int j = 0; j < grads.length; j++) {
                    grads[j][i] = gradNorms[base + j];
                }
            }
            return c;
        }

        /** The copied rows without those the writer may have overwritten, and only steps above afterStep. */
        private static Rows drop(Rows c, long from, long overwrittenBelow, long afterStep) {
            int skip = (int) Math.max(0, Math.min(c.size(), overwrittenBelow - from));
            while (skip < c.size() && c.step()[skip] <= afterStep) {
                skip++;
            }
            if (skip == 0) {
                return c;
            }
            int n = c.size() - skip;
            float[][] grads = new float[c.gradNorms().length][];
            for (int j = 0; j < grads.length; j++) {
                grads[j] = java.util.Arrays.copyOfRange(c.gradNorms()[j], skip, skip + n);
            }
            return new Rows(
                    tail(c.step(), skip),
                    tail(c.wallMillis(), skip),
                    tail(c.loss(), skip),
                    tail(c.globalNorm(), skip),
                    tail(c.clippedNorm(), skip),
                    tail(c.coefficient(), skip),
                    tail(c.zScore(), skip),
                    tail(c.agentNanos(), skip),
                    java.util.Arrays.copyOfRange(c.flags(), skip, c.size()),
                    tail(c.skippedTotal(), skip),
                    tail(c.clippedTotal(), skip),
                    tail(c.explosionsTotal(), skip),
                    tail(c.vanishingTotal(), skip),
                    grads);
        }

        private static long[] tail(long[] a, int skip) {
            return java.util.Arrays.copyOfRange(a, skip, a.length);
        }

        private static double[] tail(double[] a, int skip) {
            return java.util.Arrays.copyOfRange(a, skip, a.length);
        }
    }
}
