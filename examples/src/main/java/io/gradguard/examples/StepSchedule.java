package io.gradguard.examples;

import ai.djl.training.tracker.Tracker;

/**
 * The job's own learning-rate schedule, written the way users write one: a {@link Tracker} that keeps
 * the base rate until optimizer update {@code changeAt}, then multiplies it by {@code factor}. That is
 * a step decay; with a factor above 1 (60 where 1/60 was meant) it is the lr-jump bug.
 *
 * <p>DJL asks it once per parameter per step with the optimizer's update count, 1 on the first step,
 * so the rate changes at the {@code changeAt}-th update the optimizer actually applies.
 */
final class StepSchedule implements Tracker {

    private final float base;
    private final int changeAt;
    private final float factor;

    private StepSchedule(float base, int changeAt, float factor) {
        this.base = base;
        this.changeAt = changeAt;
        this.factor = factor;
    }

    /** A constant rate: the healthy job, and every scenario without {@code --lr-jump}. */
    static StepSchedule constant(double rate) {
        return new StepSchedule((float) rate, Integer.MAX_VALUE, 1f);
    }

    static StepSchedule of(double rate, Faults.LrJump jump) {
        return jump == null ? constant(rate) : new StepSchedule((float) rate, jump.step(), (float) jump.factor());
    }

    @Override
    public float getNewValue(int numUpdate) {
        return numUpdate >= changeAt ? base * factor : base;
    }
}
