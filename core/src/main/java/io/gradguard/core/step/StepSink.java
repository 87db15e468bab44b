package io.gradguard.core.step;

/**
 * Receives every step's {@link StepReport}, on the training thread. Each sink runs under its own
 * fault budget: a sink that throws is counted and, after repeated failures, switched off, without
 * touching the step or the other sinks. A sink must return quickly (no blocking I/O).
 */
public interface StepSink {

    /**
     * The name under which failures are counted ({@code gradguard_agent_errors_total{where}}).
     *
     * @return e.g. {@code metrics}, {@code step_log}
     */
    String name();

    /**
     * One step's report.
     *
     * @param report the report
     */
    void accept(StepReport report);
}
