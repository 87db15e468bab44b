package io.gradguard.agent.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The recent steps of every trainer of the JVM, kept in memory for the live page: one
 * {@link LiveTrack} per trainer (the sink of its engine), each a set of preallocated ring buffers.
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
    private final List<LiveTrack> tracks = new ArrayList<>();
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
    synchronized LiveTrack newTrack(String model) {
        if (tracks.size() >= MAX_TRACKS) {
            LiveTrack stalest = tracks.get(0);
            for (LiveTrack t : tracks) {
                if (t.lastWallMillis() < stalest.lastWallMillis()) {
                    stalest = t;
                }
            }
            tracks.remove(stalest);
        }
        LiveTrack t = new LiveTrack(nextId++, model, capacity, parameterFilter, maxParameters);
        tracks.add(t);
        return t;
    }

    /** The tracks shown, oldest first. */
    synchronized List<LiveTrack> tracks() {
        return List.copyOf(tracks);
    }

    /** What the recovery ladder reports of its state (the live page shows the latest). */
    record Recovery(String state, double lrScale, long rewinds, long backoffs) {}

    /** One flight-recorder incident. */
    record Incident(long step, String trigger, String file, String firstOffender) {}
}
