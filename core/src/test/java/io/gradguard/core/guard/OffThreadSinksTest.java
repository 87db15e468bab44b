package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetricsTest;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** The sinks off the training thread: every report reaches every sink, once, in step order. */
class OffThreadSinksTest {

    /** Records which step each call saw, and on which thread. */
    private static final class Recording implements StepSink {
        final List<Long> steps = Collections.synchronizedList(new ArrayList<>());
        final Set<String> threads = ConcurrentHashMap.newKeySet();

        @Override
        public String name() {
            return "recording";
        }

        @Override
        public void accept(StepReport report) {
            steps.add(report.step());
            threads.add(Thread.currentThread().getName());
        }
    }

    @Test
    void reportsReachTheSinksInOrderOnTheSinkThreadAndAllOfThemAtDeliverAll() throws Exception {
        Recording first = new Recording();
        Recording second = new Recording();
        OffThreadSinks sinks = new OffThreadSinks(List.of(first, second), errors(new SimpleMeterRegistry()));
        for (long s = 1; s <= 50; s++) {
            sinks.accept(report(s));
        }
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (first.steps.size() < 50 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(range(1, 50), first.steps);
        assertEquals(range(1, 50), second.steps);
        assertTrue(first.threads.contains("gradguard-sinks"), first.threads.toString());
        assertTrue(!first.threads.contains(Thread.currentThread().getName()), first.threads.toString());

        for (long s = 51; s <= 60; s++) {
            sinks.accept(report(s));
        }
        OffThreadSinks.deliverAll(); // as a scrape and the exit do: nothing pending afterwards
        assertEquals(range(1, 60), first.steps);
        assertEquals(range(1, 60), second.steps);
    }

    @Test
    void aFullRingIsDeliveredByTheTrainingThreadSoNoReportIsLost() {
        Recording sink = new Recording();
        OffThreadSinks sinks = new OffThreadSinks(List.of(sink), errors(new SimpleMeterRegistry()));
        int steps = 5000; // several times the ring, faster than the 20 ms deliveries
        for (long s = 1; s <= steps; s++) {
            sinks.accept(report(s));
        }
        OffThreadSinks.deliverAll();
        assertEquals(range(1, steps), sink.steps);
    }

    @Test
    void aFailingSinkIsCountedAndTheOthersStillSeeEveryReport() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Recording after = new Recording();
        StepSink failing = new StepSink() {
            @Override
            public String name() {
                return "failing";
            }

            @Override
            public void accept(StepReport report) {
                throw new IllegalStateException("sink broke");
            }
        };
        OffThreadSinks sinks = new OffThreadSinks(List.of(failing, after), errors(registry));
        for (long s = 1; s <= 3; s++) {
            sinks.accept(report(s));
        }
        OffThreadSinks.deliverAll();
        assertEquals(range(1, 3), after.steps);
        double counted = registry.get("gradguard.agent.errors")
                .tag("where", "failing")
                .counter()
                .count();
        assertEquals(3.0, counted);
    }

    @Test
    void sinksGivenAsASupplierAreMadeOffTheTrainingThreadBeforeTheFirstReport() throws Exception {
        Recording sink = new Recording();
        Set<String> madeOn = ConcurrentHashMap.newKeySet();
        OffThreadSinks sinks = new OffThreadSinks(
                () -> {
                    madeOn.add(Thread.currentThread().getName());
                    return List.of(sink);
                },
                errors(new SimpleMeterRegistry()));
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (madeOn.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(Set.of("gradguard-sinks"), madeOn, "made by the deliverer, with no report yet");
        for (long s = 1; s <= 5; s++) {
            sinks.accept(report(s));
        }
        OffThreadSinks.deliverAll();
        assertEquals(range(1, 5), sink.steps);
        assertEquals(Set.of("gradguard-sinks"), madeOn, "made once");
    }

    @Test
    void sinksThatCannotBeMadeAreCountedUnderSetupAndTheReportsGoNowhere() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        OffThreadSinks sinks = new OffThreadSinks(
                () -> {
                    throw new IllegalStateException("registry refused");
                },
                errors(registry));
        for (long s = 1; s <= 3; s++) {
            sinks.accept(report(s));
        }
        OffThreadSinks.deliverAll();
        OffThreadSinks.deliverAll();
        double counted = registry.get("gradguard.agent.errors")
                .tag("where", "setup")
                .counter()
                .count();
        assertEquals(1.0, counted, "tried once");
    }

    private static AgentErrors errors(SimpleMeterRegistry registry) {
        return new AgentErrors(registry, "test");
    }

    private static List<Long> range(long from, long to) {
        List<Long> out = new ArrayList<>();
        for (long s = from; s <= to; s++) {
            out.add(s);
        }
        return out;
    }

    private static StepReport report(long step) {
        return GradGuardMetricsTest.report(step, new StepStats(List.of(), 1.0, Double.NaN, false));
    }
}
