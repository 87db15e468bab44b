package io.gradguard.core.step;

/**
 * Receives every step's {@link StepReport}, one at a time and in step order: in the agent on the
 * {@code gradguard-sinks} thread ({@code OffThreadSinks}), given straight to an engine on the
 * training thread. Each sink runs under its own fault budget: a sink that throws is counted and,
 * after repeated failures, switched off, without touching the step or the other sinks. A sink must
 * return quickly (no blocking I/O) and must not change the training: its report may reach it after
 * later steps have run.
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
