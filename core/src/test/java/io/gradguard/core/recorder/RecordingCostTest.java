package io.gradguard.core.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.step.StepReport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What recording costs in memory, measured by the JVM's own per-thread allocation counter (no
 * timing): nothing per step once the arrays exist, and bounded arrays for 500 parameters x 64
 * steps, made again only when the trainable set changes.
 */
class RecordingCostTest {

    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    @Test
    void recordingAStepAllocatesNothingAndTheArraysAreBounded(@TempDir Path dir) {
        int parameters = 500;
        GradGuardConfig config = GradGuardSchema.load("summary=0,port=0,incidents.dir=" + dir, Map.of(), Map.of());
        FlightRecorder recorder =
                new FlightRecorder(new SimpleMeterRegistry(), "cost", config, IncidentWriter.open(config, null), null);
        Reports reports = new Reports(parameters);
        StepReport[] steps = new StepReport[64];
        for (int s = 0; s < steps.length; s++) {
            steps[s] = reports.step(s + 1, Reports.healthy(parameters, s), false);
        }
        long before = THREADS.getCurrentThreadAllocatedBytes();
        recorder.accept(steps[0]);
        long firstStep = THREADS.getCurrentThreadAllocatedBytes() - before;
        for (int s = 1; s < 20_000; s++) {
            recorder.accept(steps[s % steps.length]); // warm: the JIT compiles accept
        }
        int measured = 20_000;
        before = THREADS.getCurrentThreadAllocatedBytes();
        for (int s = 0; s < measured; s++) {
            recorder.accept(steps[s % steps.length]);
        }
        long perSteps = THREADS.getCurrentThreadAllocatedBytes() - before;
        System.out.printf(
                "flight recorder, %d parameters x 64 steps: arrays made at the first step %,d bytes;"
                        + " %d steps recorded after it allocated %d bytes%n",
                parameters, firstStep, measured, perSteps);
        assertTrue(
                perSteps < measured, "less than one byte per step: " + perSteps + " bytes for " + measured + " steps");
        // ring 9 bytes per parameter and step, bands about 400 bytes per parameter, and the rest
        assertTrue(firstStep < 9L * parameters * 64 + 400L * parameters + 64 * 1024, "bounded: " + firstStep);
        assertTrue(firstStep > 9L * parameters * 64, "the ring itself is in the figure: " + firstStep);

        Reports other = new Reports(parameters); // the same names, other instances: another trainable set
        before = THREADS.getCurrentThreadAllocatedBytes();
        recorder.accept(other.step(1, Reports.healthy(parameters, 1), false));
        long newSet = THREADS.getCurrentThreadAllocatedBytes() - before;
        assertEquals(firstStep, newSet, firstStep / 10.0, "a new trainable set is allocated anew, once");
    }
}
