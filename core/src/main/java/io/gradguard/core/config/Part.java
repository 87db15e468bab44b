package io.gradguard.core.config;

/**
 * The parts of the agent a configuration key belongs to. A key that cannot be read switches off
 * its own part and nothing else, with one loud line: a missing auth file means no endpoint, while
 * the policy goes on protecting the job.
 */
public enum Part {
    /** Clipping, non-finite handling and recovery: a bad setting leaves the job unprotected, said loudly. */
    PROTECTION("clipping is off for this job"),
    /** What is measured and how often: a bad setting falls back to its default. */
    MONITORING("its default applies"),
    /** The scrape endpoint and its live page. */
    ENDPOINT("no metrics endpoint"),
    /** Pushes to a Prometheus Pushgateway. */
    PUSH("no pushes"),
    /** OTLP export. */
    OTLP("no OTLP export"),
    /** The JSON Lines step log. */
    STEP_LOG("no step log"),
    /** Flight-recorder incident files. */
    INCIDENTS("no incident files");

    private final String consequence;

    Part(String consequence) {
        this.consequence = consequence;
    }

    /** @return what the agent goes without when a setting of this part is unusable */
    public String consequence() {
        return consequence;
    }
}
