package io.gradguard.core.metrics;

import io.gradguard.core.console.Console;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Counts failures contained inside the agent ({@code gradguard_agent_errors_total{where}}) and
 * logs each kind once, so a fault repeated every step neither kills the job nor floods its log.
 */
public final class AgentErrors {

    private final MeterRegistry registry;
    private final String run;
    private final Set<String> logged = ConcurrentHashMap.newKeySet();
    private final boolean logs;
    private final java.util.concurrent.atomic.AtomicLong counted = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Creates the counter family.
     *
     * @param registry where the counters live
     * @param run value of the {@code run} label
     */
    public AgentErrors(MeterRegistry registry, String run) {
        this(registry, run, true);
    }

    private AgentErrors(MeterRegistry registry, String run, boolean logs) {
        this.registry = registry;
        this.run = run;
        this.logs = logs;
        // at 0 from the start, so increase() and dashboards see a series before the first failure
        for (String where : KNOWN_PLACES) {
            counter(where);
        }
    }

    /**
     * Counters that log nothing: for work whose failures say nothing about the job (the JIT warm-up).
     *
     * @param registry where the counters live
     * @return the counter family
     */
    public static AgentErrors unlogged(MeterRegistry registry) {
        return new AgentErrors(registry, "", false);
    }

    /**
     * The failures counted so far, over every place.
     *
     * @return their number
     */
    public long total() {
        return counted.get();
    }

    /** The parts of the agent that count their failures here. */
    public static final java.util.List<String> KNOWN_PLACES = java.util.List.of(
            "config",
            "stats",
            "detector",
            "nonfinite",
            "policy",
            "update_ratio",
            "metrics",
            "summary",
            "loss",
            "step_log",
            "step",
            "setup",
            "recovery",
            "save_check",
            "incidents",
            "shadow");

    private Counter counter(String where) {
        return Counter.builder("gradguard.agent.errors")
                .description("failures contained inside the agent")
                .tags("run", run, "where", where)
                .register(registry);
    }

    /**
     * Counts and (first time per place) logs a contained failure.
     *
     * @param where the part of the agent that failed, e.g. {@code stats}, {@code policy}
     * @param error what was thrown
     */
    public void record(String where, Throwable error) {
        count(where);
        if (logs && logged.add(where)) {
            Console.info("contained a failure in " + where + " (training goes on; logged once): " + error);
        }
    }

    /**
     * Counts a contained failure that its part has already said in its own words.
     *
     * @param where the part of the agent that failed, e.g. {@code step_log}
     */
    public void count(String where) {
        counter(where).increment();
        counted.incrementAndGet();
    }
}
