package io.gradguard.agent.runtime;

import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the live page's history costs, in this JVM: the training thread's {@code accept()} per
 * step (time and bytes allocated), and, on the endpoint's worker, rendering {@code /api/steps}.
 * Part of {@code ./gradguard bench}; the job variant {@code live-page} measures the same from the
 * outside, in a training job with a page polling it.
 */
public final class LiveHistoryBenchmark {

    private static final int BATCH = 100_000;
    private static final int BATCHES = 31;

    private LiveHistoryBenchmark() {}

    /**
     * Runs it and prints a table.
     *
     * @param out where the table goes
     */
    public static void run(PrintStream out) {
        out.println();
        out.println(
                "live page history in-process (training thread: accept() per step; endpoint worker: /api/steps render):");
        out.println(
                "| parameters | accept() ns per step, median of " + BATCHES + " x " + BATCH
                        + " | bytes allocated per step | render, 2048 steps (first load) us | render, 100 new steps (one poll) us |");
        out.println("|---:|---:|---:|---:|---:|");
        for (int parameters : new int[] {6, 54, 500}) {
            measure(out, parameters);
        }
    }

    private static void measure(PrintStream out, int parameters) {
        LiveHistory history = new LiveHistory(LiveHistory.STEPS, Pattern.compile(".*"), 500);
        LiveTrack track = history.newTrack("bench");
        // As in a job: the parameters' names are the same instances at every step, and each step's
        // report is freshly made (so in cache); 16 reports stand for that without allocating here.
        String[] names = new String[parameters];
        for (int j = 0; j < parameters; j++) {
            names[j] = String.format(Locale.ROOT, "%02dLinear_weight", j);
        }
        StepReport[] reports = new StepReport[16];
        for (int i = 0; i < reports.length; i++) {
            reports[i] = LiveHistoryTest.report(
                    "bench", i + 1, names, i == 7 ? StepAction.SKIPPED : StepAction.APPLIED, i == 3);
        }
        for (int n = 0; n < 2 * BATCH; n++) {
            track.accept(reports[n & (reports.length - 1)]);
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        double[] ns = new double[BATCHES];
        long allocated = 0;
        for (int b = 0; b < BATCHES; b++) {
            long bytes0 = threads.getThreadAllocatedBytes(id);
            long t0 = System.nanoTime();
            for (int n = 0; n < BATCH; n++) {
                track.accept(reports[n & (reports.length - 1)]);
            }
            ns[b] = (System.nanoTime() - t0) / (double) BATCH;
            allocated += threads.getThreadAllocatedBytes(id) - bytes0;
        }
        Arrays.sort(ns);
        // Steps of the fed reports repeat; a fresh track with growing steps gives the poll's shape.
        LiveTrack fresh = history.newTrack("render");
        for (int i = 1; i <= LiveHistory.STEPS; i++) {
            fresh.accept(LiveHistoryTest.report(
                    "render", i, names, i % 97 == 0 ? StepAction.SKIPPED : StepAction.APPLIED, i % 31 == 0));
        }
        LiveSteps steps = new LiveSteps(history, "bench");
        double full = renderMicros(steps, Map.of(track.id(), Long.MAX_VALUE, fresh.id(), 0L));
        double poll =
                renderMicros(steps, Map.of(track.id(), Long.MAX_VALUE, fresh.id(), (long) LiveHistory.STEPS - 100));
        out.printf(
                Locale.ROOT,
                "| %d | %.1f | %.3f | %.0f | %.0f |%n",
                parameters,
                ns[BATCHES / 2],
                allocated / (double) (BATCHES * (long) BATCH),
                full,
                poll);
    }

    /** Median microseconds of one render over 41 after 10 warm-up renders. */
    private static double renderMicros(LiveSteps steps, Map<Integer, Long> after) {
        double[] us = new double[41];
        for (int i = -10; i < us.length; i++) {
            long t0 = System.nanoTime();
            int length = steps.render(after).length();
            if (i >= 0) {
                us[i] = (System.nanoTime() - t0) / 1e3;
            }
            if (length == 0) {
                throw new AssertionError();
            }
        }
        Arrays.sort(us);
        return us[us.length / 2];
    }
}
