package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Faults injected into every part of the guard never change what the job trains. */
class FaultContainmentTest {

    /** Every part that runs when the agent only monitors (the policy's faults: the next test). */
    private static final List<String> PARTS =
            List.of("config", "stats", "detector", "update_ratio", "metrics", "summary", "loss");

    @AfterEach
    void noInjection() {
        FaultBudget.injector = null;
    }

    @Test
    void monitoringWithFaultsEverywhereTrainsBitForBitAsWithout() throws Exception {
        Map<String, Integer> injected = new HashMap<>();
        Random random = new Random(11);
        FaultBudget.injector = (part, step) -> {
            if (PARTS.contains(part) && random.nextDouble() < 0.25) {
                injected.merge(part, 1, Integer::sum);
                throw new IllegalStateException("injected fault in " + part + " at step " + step);
            }
        };
        Map<String, float[]> guarded;
        double errorsCounted = 0;
        try (GuardedTraining t = new GuardedTraining("policy.type=none,update_ratio_every=1", 0.1f)) {
            for (int i = 0; i < 200; i++) {
                t.backward(1f);
                t.step();
            }
            guarded = t.weights();
            for (String part : PARTS) {
                double c = t.counter("gradguard.agent.errors", "where", part);
                errorsCounted += Double.isNaN(c) ? 0 : c;
                assertTrue(
                        injected.getOrDefault(part, 0) > 0, "no fault reached " + part + ": the check would be 0 == 0");
                assertEquals(injected.getOrDefault(part, 0), Double.isNaN(c) ? 0 : (int) c, part);
            }
        }
        FaultBudget.injector = null;
        Map<String, float[]> bare = bareRun(200);
        for (String name : bare.keySet()) {
            assertArrayEquals(bare.get(name), guarded.get(name), 0f, name);
        }
        assertEquals(Set.copyOf(PARTS), injected.keySet(), "faults reached every monitoring part");
        int total = injected.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("faults injected %d, counted %.0f, by part %s%n", total, errorsCounted, injected);
        assertTrue(total > 100, "too few faults to prove anything: " + total);
    }

    @Test
    void policyFaultsLeaveThoseStepsUnclippedAndTheRestClipped() throws Exception {
        Set<Long> failing = new TreeSet<>(List.of(3L, 4L, 9L, 17L));
        FaultBudget.injector = (part, step) -> {
            if (part.equals("policy") && failing.contains(step)) {
                throw new IllegalStateException("injected");
            }
        };
        Map<String, float[]> withFaults;
        try (GuardedTraining t = new GuardedTraining("policy.type=global-norm,policy.max_norm=0.05", 0.5f)) {
            for (int i = 0; i < 20; i++) {
                t.backward(1f);
                t.step();
            }
            withFaults = t.weights();
            assertEquals(4.0, t.counter("gradguard.agent.errors", "where", "policy"));
        }
        FaultBudget.injector = null;
        // the reference: the same job, the policy acting at every step but those
        Map<String, float[]> reference;
        try (GuardedTraining t = new GuardedTraining("policy.type=global-norm,policy.max_norm=0.05", 0.5f)) {
            for (long s = 1; s <= 20; s++) {
                t.backward(1f);
                if (failing.contains(s)) {
                    t.trainer.step();
                } else {
                    t.step();
                }
            }
            reference = t.weights();
        }
        for (String name : reference.keySet()) {
            assertArrayEquals(reference.get(name), withFaults.get(name), 0f, name);
        }
    }

    @Test
    void aPartFailingEveryStepIsDisabledAfterTheLimit() throws Exception {
        FaultBudget.injector = (part, step) -> {
            if (part.equals("detector")) {
                throw new IllegalStateException("injected");
            }
        };
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 0.1f)) {
            for (int i = 0; i < 50; i++) {
                t.backward(1f);
                t.step();
            }
            assertEquals(FaultBudget.LIMIT, t.counter("gradguard.agent.errors", "where", "detector"));
            assertEquals(50.0, t.counter("gradguard.steps"), "the rest of the guard keeps working");
        }
    }

    private static Map<String, float[]> bareRun(int steps) throws Exception {
        try (GuardedTraining t = new GuardedTraining("policy.type=none", 0.1f)) {
            for (int i = 0; i < steps; i++) {
                t.backwardWithoutAgent(1f);
                t.trainer.step();
            }
            return t.weights();
        }
    }
}
