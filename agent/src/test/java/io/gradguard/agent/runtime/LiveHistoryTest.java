package io.gradguard.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.detect.Detection;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.json.Json;

/** The live page's history: ring order, totals, concurrent reads while training writes, the JSON. */
class LiveHistoryTest {

    private static final PolicyDescription POLICY =
            new PolicyDescription("global-norm", "max_norm=1.0,norm_type=2.0", "clip global L2 norm to 1.0", "skip");
    private static final Pattern ALL = Pattern.compile(".*");

    /** A report whose every figure is derived from its step, so a reader can tell a torn row. */
    static StepReport report(String model, long step, int parameters, StepAction action, boolean explosion) {
        String[] names = new String[parameters];
        for (int j = 0; j < parameters; j++) {
            names[j] = "p" + j;
        }
        return report(model, step, names, action, explosion);
    }

    /** The same, with the parameters' names given: a real job's reports share their name instances. */
    static StepReport report(String model, long step, String[] names, StepAction action, boolean explosion) {
        List<ParameterStats> p = new ArrayList<>();
        for (int j = 0; j < names.length; j++) {
            p.add(new ParameterStats(names[j], step + j, Double.NaN, false, Double.NaN));
        }
        boolean skipped = action == StepAction.SKIPPED;
        StepStats stats = new StepStats(p, skipped ? Double.POSITIVE_INFINITY : 2.0 * step, 1.0, skipped);
        ClipResult clip = skipped ? new ClipResult(false, 0.0, 0.0) : ClipResult.scaled(1.0 / step, 2.0);
        return new StepReport(
                model,
                step,
                1_000_000L + step,
                stats,
                clip,
                POLICY,
                action,
                skipped ? "nonfinite" : null,
                new Detection(step / 10.0, explosion, false),
                step + 0.5,
                null,
                null,
                skipped ? 1 : 0,
                1000L * step);
    }

    @Test
    void keepsTheLastStepsOfEachTrainerInOrderWithRunningTotals() {
        LiveHistory history = new LiveHistory(8, ALL, 100);
        LiveTrack track = history.newTrack("mlp");
        for (long s = 1; s <= 20; s++) {
            StepAction action = s == 5 || s == 17 ? StepAction.SKIPPED : StepAction.APPLIED;
            track.accept(report("mlp", s, 3, action, s == 18));
        }
        // DJL threw: not a step, not a row.
        track.accept(report("mlp", 21, 3, StepAction.DJL_THREW, false));

        LiveRows all = track.after(0, LiveHistory.STEPS);
        assertArrayEquals(new long[] {13, 14, 15, 16, 17, 18, 19, 20}, all.step());
        assertEquals(2 * 13.0, all.globalNorm()[0]);
        assertEquals(13.5, all.loss()[0]);
        assertEquals(13_000L, all.agentNanos()[0]);
        assertEquals(3, all.gradNorms().length);
        assertEquals(13f + 2, all.gradNorms()[2][0]);
        assertEquals(2, all.skippedTotal()[7], "both skips counted, the first long out of the ring");
        assertEquals(1, all.skippedTotal()[3], "as of step 16");
        assertEquals(1, all.explosionsTotal()[7]);
        assertEquals(LiveHistory.SKIPPED | LiveHistory.NONFINITE, all.flags()[4]);
        assertEquals(LiveHistory.CLIPPED | LiveHistory.EXPLOSION, all.flags()[5]);

        assertArrayEquals(
                new long[] {19, 20}, track.after(18, LiveHistory.STEPS).step());
        assertArrayEquals(new long[0], track.after(20, LiveHistory.STEPS).step());
        assertArrayEquals(new long[] {18, 19, 20}, track.after(0, 3).step(), "the newest rows under a limit");
        assertEquals(List.of("p0", "p1", "p2"), track.parameters());
        assertEquals(POLICY, track.policy());
    }

    @Test
    void heatmapParametersFollowTheAllowListAndTheCap() {
        LiveHistory history = new LiveHistory(8, Pattern.compile("p[0-3]"), 2);
        LiveTrack track = history.newTrack("mlp");
        track.accept(report("mlp", 1, 6, StepAction.APPLIED, false));
        assertEquals(List.of("p0", "p1"), track.parameters());
        assertEquals(List.of(), history.newTrack("cnn").parameters(), "before its first step");
    }

    @Test
    void showsAtMostSixteenTrainersDroppingTheOneStaleLongest() {
        LiveHistory history = new LiveHistory(8, ALL, 10);
        List<LiveTrack> made = new ArrayList<>();
        for (int i = 0; i < LiveHistory.MAX_TRACKS; i++) {
            LiveTrack t = history.newTrack("m" + i);
            // wall clock of the report: m3 stepped longest ago
            StepReport r = report("m" + i, 1, 1, StepAction.APPLIED, false);
            t.accept(new StepReport(
                    r.model(),
                    1,
                    i == 3 ? 5 : 10_000 + i,
                    r.stats(),
                    r.clip(),
                    r.policy(),
                    r.action(),
                    null,
                    r.detection(),
                    r.loss(),
                    null,
                    null,
                    0,
                    1));
            made.add(t);
        }
        LiveTrack extra = history.newTrack("late");
        List<LiveTrack> shown = history.tracks();
        assertEquals(LiveHistory.MAX_TRACKS, shown.size());
        assertFalse(shown.contains(made.get(3)));
        assertTrue(shown.contains(extra));
        assertEquals(17, extra.id(), "ids are never reused");
    }

    /**
     * A writer far faster than any training loop laps a 16-slot ring thousands of times while
     * readers copy: every row a reader gets is whole (all its columns from the same step) and the
     * rows of one read are consecutive steps.
     */
    @Test
    void readersNeverSeeATornRowWhileTheWriterLapsTheRing() throws Exception {
        LiveHistory history = new LiveHistory(16, ALL, 10);
        LiveTrack track = history.newTrack("mlp");
        int steps = 300_000;
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try {
            List<Future<long[]>> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                readers.add(pool.submit(() -> {
                    long rows = 0;
                    long reads = 0;
                    long after = 0;
                    while (!done.get()) {
                        LiveRows got = track.after(after, LiveHistory.STEPS);
                        reads++;
                        for (int i = 0; i < got.size(); i++) {
                            long s = got.step()[i];
                            if (i > 0 && s != got.step()[i - 1] + 1) {
                                throw new AssertionError("rows not consecutive: " + got.step()[i - 1] + " then " + s);
                            }
                            if (s <= after
                                    || got.loss()[i] != s + 0.5
                                    || got.globalNorm()[i] != 2.0 * s
                                    || got.agentNanos()[i] != 1000L * s
                                    || got.wallMillis()[i] != 1_000_000L + s
                                    || got.gradNorms()[3][i] != (float) (s + 3)) {
                                throw new AssertionError("torn row at step " + s + " (after " + after + ")");
                            }
                        }
                        rows += got.size();
                        if (got.size() > 0) {
                            after = got.step()[got.size() - 1];
                        }
                    }
                    return new long[] {reads, rows};
                }));
            }
            Future<?> writer = pool.submit(() -> {
                for (long s = 1; s <= steps; s++) {
                    track.accept(report("mlp", s, 4, StepAction.APPLIED, false));
                }
                done.set(true);
            });
            writer.get(120, TimeUnit.SECONDS);
            for (Future<long[]> r : readers) {
                long[] got = r.get(30, TimeUnit.SECONDS);
                System.out.printf(
                        "[LiveHistoryTest] reader: %d reads, %d whole rows while %d were written%n",
                        got[0], got[1], steps);
                assertTrue(got[0] > 0);
            }
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
        assertArrayEquals(
                new long[] {steps - 1, steps}, track.after(steps - 2, 16).step());
    }

    @Test
    void aStepAllocatesNothingAfterTheFirst() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        LiveTrack track = new LiveHistory(LiveHistory.STEPS, ALL, 500).newTrack("mlp");
        StepReport[] reports = new StepReport[64];
        for (int i = 0; i < reports.length; i++) {
            reports[i] = report("mlp", i + 1, 54, i % 7 == 0 ? StepAction.SKIPPED : StepAction.APPLIED, i % 5 == 0);
        }
        track.accept(reports[0]); // the first step sizes the heatmap's buffer
        long id = Thread.currentThread().getId();
        long before = threads.getThreadAllocatedBytes(id);
        for (int n = 0; n < 20_000; n++) {
            track.accept(reports[n & 63]);
        }
        long allocated = threads.getThreadAllocatedBytes(id) - before;
        System.out.println("[LiveHistoryTest] 20000 steps of 54 parameters allocated " + allocated + " bytes");
        // The measurement itself may cost a few bytes; one allocation per step would be 20000 x 16 at least.
        assertTrue(allocated < 1024, allocated + " bytes allocated by 20000 steps");
    }

    @Test
    void cursorsParseOrAreRefused() {
        assertEquals(Map.of(), LiveSteps.cursors(null));
        assertEquals(Map.of(1, 500L, 2, 30L), LiveSteps.cursors("after=1:500,2:30"));
        assertEquals(Map.of(1, 500L), LiveSteps.cursors("after=1%3A500&x=y"));
        assertNull(LiveSteps.cursors("after=1"));
        assertNull(LiveSteps.cursors("after=a:5"));
        assertNull(LiveSteps.cursors("after=1:99999999999999999999999"));
        assertNull(LiveSteps.cursors("after=" + "1:1,".repeat(40)));
    }

    @Test
    @SuppressWarnings("unchecked")
    void jsonCarriesColumnsEventsAndOptionalRecoveryAndIncidents() {
        LiveHistory history = new LiveHistory(8, ALL, 10);
        LiveTrack track = history.newTrack("mlp \"quoted\"\n");
        track.accept(report("mlp", 1, 2, StepAction.APPLIED, false));
        track.accept(report("mlp", 2, 2, StepAction.SKIPPED, true));
        LiveSteps steps = new LiveSteps(history, "run-1");

        Map<String, Object> plain = new Json().toType(steps.render(Map.of()), Map.class);
        assertEquals(1L, plain.get("version"));
        assertEquals("run-1", plain.get("run"));
        Map<String, Object> t = ((List<Map<String, Object>>) plain.get("tracks")).get(0);
        assertEquals("mlp \"quoted\"\n", t.get("model"));
        assertEquals(List.of("p0", "p1"), t.get("parameters"));
        Map<String, Object> rows = (Map<String, Object>) t.get("rows");
        assertEquals(List.of(1L, 2L), rows.get("step"));
        List<Object> norms = (List<Object>) rows.get("global_norm");
        assertEquals(2.0, ((Number) norms.get(0)).doubleValue());
        assertNull(norms.get(1), "an overflowed norm is null");
        assertEquals(
                List.of(1.5, 2.5),
                ((List<Number>) rows.get("loss"))
                        .stream().map(Number::doubleValue).toList());
        assertEquals(
                List.of(1.0, 2.0),
                ((List<Number>) rows.get("agent_us"))
                        .stream().map(Number::doubleValue).toList());
        assertEquals(2, ((List<?>) rows.get("grad_norm")).size());
        assertEquals(
                Map.of("steps", 2L, "skipped", 1L, "clipped", 1L, "explosions", 1L, "vanishing", 0L), t.get("totals"));
        assertEquals(
                List.of(
                        Map.of("step", 2L, "kind", "skipped", "nonfinite", true),
                        Map.of("step", 2L, "kind", "explosion")),
                t.get("events"));
        assertEquals("global-norm", ((Map<String, Object>) t.get("policy")).get("type"));
        assertFalse(t.containsKey("recovery"));
        assertFalse(t.containsKey("incidents"));

        track.recovery(new LiveHistory.Recovery("backoff", 0.5, 1, 2));
        track.incident(new LiveHistory.Incident(2, "nonfinite", "/tmp/incident-2.json", "p1"));
        Map<String, Object> after = new Json().toType(steps.render(Map.of(track.id(), 2L)), Map.class);
        t = ((List<Map<String, Object>>) after.get("tracks")).get(0);
        assertEquals(List.of(), ((Map<String, Object>) t.get("rows")).get("step"), "nothing after step 2");
        assertFalse(t.containsKey("totals"));
        assertEquals(Map.of("state", "backoff", "lr_scale", 0.5, "rewinds", 1L, "backoffs", 2L), t.get("recovery"));
        assertEquals(
                List.of(Map.of(
                        "step", 2L, "trigger", "nonfinite", "file", "/tmp/incident-2.json", "first_offender", "p1")),
                t.get("incidents"));
    }
}
