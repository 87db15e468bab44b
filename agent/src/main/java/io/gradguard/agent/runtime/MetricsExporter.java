package io.gradguard.agent.runtime;

/**
 * One way the agent's metrics leave the JVM (the scrape endpoint, Pushgateway pushes, OTLP): it
 * starts with the runtime, and at exit it is flushed, so that the last step's values go out, then
 * closed. Each runs on its own daemon threads and never blocks the training thread.
 */
interface MetricsExporter extends AutoCloseable {

    /**
     * What the start line says of it.
     *
     * @return e.g. {@code metrics at http://127.0.0.1:9404/metrics}
     */
    String describe();

    /** Sends what is still to be sent (bounded in time); a no-op for a pull exporter. */
    default void flush() {}

    /** Stops its threads; never throws. */
    @Override
    void close();
}
