package io.gradguard.core.guard;

import io.gradguard.core.console.Console;
import io.gradguard.core.metrics.AgentErrors;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Runs each part of the guard (statistics, policy, detector, metrics, ...) fail-open: a failure is
 * counted in {@code gradguard_agent_errors_total{where}} and the step goes on as DJL would run it.
 * After {@link #LIMIT} consecutive failures of one part that part is switched off, said once,
 * instead of failing (and logging) at every step of a days-long job.
 */
final class FaultBudget {

    /** Consecutive failures after which a part is disabled. */
    static final int LIMIT = 10;

    /**
     * Test-only fault injection: null in production and not reachable from any configuration key;
     * tests in this package set it to make a part throw at chosen steps.
     */
    static volatile FaultInjector injector;

    private final AgentErrors errors;
    private final Map<String, int[]> consecutive = new HashMap<>();
    private final Map<String, Boolean> disabled = new HashMap<>();

    FaultBudget(AgentErrors errors) {
        this.errors = errors;
    }

    /** Runs a part; returns its value, or {@code fallback} when it failed or is disabled. */
    <T> T call(String part, long step, Supplier<T> body, T fallback) {
        if (disabled.containsKey(part)) {
            return fallback;
        }
        try {
            FaultInjector i = injector;
            if (i != null) {
                i.maybeFail(part, step);
            }
            T value = body.get();
            consecutive.computeIfAbsent(part, p -> new int[1])[0] = 0;
            return value;
        } catch (RuntimeException | LinkageError e) {
            errors.record(part, e);
            int[] n = consecutive.computeIfAbsent(part, p -> new int[1]);
            if (++n[0] >= LIMIT) {
                disabled.put(part, Boolean.TRUE);
                Console.warn("disabled '" + part + "' after " + LIMIT + " consecutive failures (last: " + e
                        + "); training goes on without it");
            }
            return fallback;
        }
    }

    /** Runs a part that returns nothing. */
    void run(String part, long step, Runnable body) {
        call(
                part,
                step,
                () -> {
                    body.run();
                    return Boolean.TRUE;
                },
                Boolean.FALSE);
    }

    /** Makes a part throw at chosen steps (tests only). */
    interface FaultInjector {
        void maybeFail(String part, long step);
    }
}
