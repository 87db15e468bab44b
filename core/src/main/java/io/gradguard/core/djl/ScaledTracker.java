package io.gradguard.core.djl;

import ai.djl.training.tracker.ParameterTracker;

/**
 * The job's own learning-rate tracker, multiplied by a factor the agent sets: how the recovery
 * ladder backs the rate off whatever tracker (or subclass) the job built. At factor 1 it returns
 * exactly what the job's tracker returns. It also remembers the job's last rate, so that a sudden
 * jump of the schedule can be seen.
 */
final class ScaledTracker implements ParameterTracker {

    private final ParameterTracker job;
    private volatile float factor = 1f;
    private volatile float lastJobRate = Float.NaN;

    ScaledTracker(ParameterTracker job) {
        this.job = job;
    }

    @Override
    public float getNewValue(String parameterId, int numUpdate) {
        float rate = job.getNewValue(parameterId, numUpdate);
        lastJobRate = rate;
        float f = factor;
        return f == 1f ? rate : rate * f;
    }

    void factor(float f) {
        factor = f;
    }

    float lastJobRate() {
        return lastJobRate;
    }

    ParameterTracker job() {
        return job;
    }
}
