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
    private final Map<String, Part> parts = new HashMap<>();

    FaultBudget(AgentErrors errors) {
        this.errors = errors;
    }

    /** The budget of one part, for a caller that runs it in its own try block. */
    Part part(String name) {
        return parts.computeIfAbsent(name, Part::new);
    }

    /** Runs a part; returns its value, or {@code fallback} when it failed or is disabled. */
    <T> T call(String part, long step, Supplier<T> body, T fallback) {
        Part p = part(part);
        try {
            if (p.enter(step)) {
                T value = body.get();
                p.succeeded();
                return value;
            }
        } catch (RuntimeException | LinkageError e) {
            p.failed(e);
        }
        return fallback;
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

    /**
     * One part's count of consecutive failures. The parts run at every step use it in a plain try
     * block rather than through {@link #call}: a lambda made at each call is an allocation through
     * the method-handle path until the JIT has compiled the step path (most of a 2,000-step job),
     * and a monitoring step made about ten. Without them the engine's mlp step took 88 instead of
     * 97.5 us at that stage (measured).
     *
     * <pre>{@code
     * try {
     *     if (part.enter(step)) {
     *         ...;
     *         part.succeeded();
     *     }
     * } catch (RuntimeException | LinkageError e) {
     *     part.failed(e);
     * }
     * }</pre>
     */
    final class Part {

        private final String name;
        private int consecutive;
        private boolean disabled;

        private Part(String name) {
            this.name = name;
        }

        /** Whether the part runs this step; inside the try: the test-only injector throws here. */
        boolean enter(long step) {
            if (disabled) {
                return false;
            }
            FaultInjector i = injector;
            if (i != null) {
                i.maybeFail(name, step);
            }
            return true;
        }

        void succeeded() {
            consecutive = 0;
        }

        /** Counts the failure; the part is disabled after {@link #LIMIT} in a row. */
        void failed(Throwable e) {
            errors.record(name, e);
            if (++consecutive >= LIMIT && !disabled) {
                disabled = true;
                Console.warn("disabled '" + name + "' after " + LIMIT + " consecutive failures (last: " + e
                        + "); training goes on without it");
            }
        }
    }

    /** Makes a part throw at chosen steps (tests only). */
    interface FaultInjector {
        void maybeFail(String part, long step);
    }
}
