package io.gradguard.agent.runtime;

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

/** One trainer's history and the {@link StepSink} that fills it. */
final class LiveTrack implements StepSink {

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
    private final LiveRecovery recovery = new LiveRecovery();
    private final ArrayDeque<LiveHistory.Incident> incidents = new ArrayDeque<>();

    LiveTrack(int id, String model, int capacity, Pattern parameterFilter, int maxParameters) {
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
        if (r.recovery() != null) {
            recovery.step(r.recovery());
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
            f |= LiveHistory.SKIPPED;
            skipped++;
        }
        if (r.action() == StepAction.FAILED) {
            f |= LiveHistory.FAILED;
        }
        if (r.clip().clipped()) {
            f |= LiveHistory.CLIPPED;
            clipped++;
        }
        if (r.detection().explosion()) {
            f |= LiveHistory.EXPLOSION;
            explosions++;
        }
        if (r.detection().vanishing()) {
            f |= LiveHistory.VANISHING;
            vanishing++;
        }
        if (r.stats().nonFinite()) {
            f |= LiveHistory.NONFINITE;
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
            gradNorms[base + j] = p != null && p.name().equals(parameterNames[j]) ? (float) p.gradNorm() : Float.NaN;
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
    LiveHistory.Recovery recovery() {
        return recovery.latest();
    }

    /**
     * Records the recovery ladder's state (from whichever thread runs the ladder).
     *
     * @param state the ladder's latest state
     */
    void recovery(LiveHistory.Recovery state) {
        recovery.set(state);
    }

    /**
     * Records an incident the flight recorder wrote.
     *
     * @param incident the incident
     */
    void incident(LiveHistory.Incident incident) {
        synchronized (incidents) {
            if (incidents.size() == LiveHistory.MAX_INCIDENTS) {
                incidents.removeFirst();
            }
            incidents.addLast(incident);
        }
    }

    /** The incidents recorded, oldest first (the last {@link LiveHistory#MAX_INCIDENTS}). */
    List<LiveHistory.Incident> incidents() {
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
    LiveRows after(long afterStep, int limit) {
        for (int attempt = 0; ; attempt++) {
            long end = published;
            long start = Math.max(0, end - capacity);
            start = Math.max(start, end - limit);
            start = firstAfter(start, end, afterStep);
            LiveRows copy = copy(start, end);
            // Every slot read above must be read before the writer's cursor is looked at again.
            VarHandle.acquireFence();
            long overwrittenBelow = claimed - capacity;
            if (overwrittenBelow <= start || attempt == 1) {
                return copy.withoutOverwritten(start, overwrittenBelow, afterStep);
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

    private LiveRows copy(long from, long end) {
        int n = (int) (end - from);
        float[][] grads = new float[parameterNames == null ? 0 : parameterNames.length][n];
        LiveRows c = LiveRows.allocate(n, grads);
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
}
