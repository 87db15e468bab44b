package io.gradguard.core.recovery;

/**
 * The steps of the last events of one kind that fall within a window of steps, in a fixed array:
 * the ladder's memory of explosions (whether they persist) and of rewinds (whether they are
 * exhausted).
 */
final class StepWindow {

    private final long[] steps;
    private final int window;
    private final boolean inclusive;
    private int count;

    /**
     * @param capacity the most steps kept
     * @param window the window, in steps
     * @param inclusive whether a step exactly {@code window} steps back is still inside
     */
    StepWindow(int capacity, int window, boolean inclusive) {
        this.steps = new long[capacity];
        this.window = window;
        this.inclusive = inclusive;
    }

    /** Adds the step, dropping the oldest when full; returns the steps now within the window. */
    int slide(long step) {
        prune(step);
        if (count == steps.length) {
            System.arraycopy(steps, 1, steps, 0, count - 1);
            count--;
        }
        steps[count++] = step;
        return count;
    }

    /** Adds the step while there is room; returns the steps now within the window. */
    int addIfRoom(long step) {
        prune(step);
        if (count < steps.length) {
            steps[count++] = step;
        }
        return count;
    }

    void clear() {
        count = 0;
    }

    private void prune(long step) {
        int recent = 0;
        for (int i = 0; i < count; i++) {
            long age = step - steps[i];
            if (inclusive ? age <= window : age < window) {
                steps[recent++] = steps[i];
            }
        }
        count = recent;
    }
}
