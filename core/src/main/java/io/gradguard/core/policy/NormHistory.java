package io.gradguard.core.policy;

import java.util.Arrays;

/**
 * The newest {@code capacity} global norms, kept both in arrival order (to evict the oldest) and
 * sorted (so a percentile costs a binary search and an array shift per step instead of a sort).
 */
final class NormHistory {

    private final double[] arrival;
    private final double[] sorted;
    private int size;
    private int oldest;

    NormHistory(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("history must be >= 1, got " + capacity);
        }
        arrival = new double[capacity];
        sorted = new double[capacity];
    }

    /** A copy, to put back when the run is rewound. */
    NormHistory copy() {
        NormHistory c = new NormHistory(arrival.length);
        c.set(this);
        return c;
    }

    void set(NormHistory other) {
        System.arraycopy(other.arrival, 0, arrival, 0, arrival.length);
        System.arraycopy(other.sorted, 0, sorted, 0, sorted.length);
        size = other.size;
        oldest = other.oldest;
    }

    int size() {
        return size;
    }

    void add(double value) {
        if (size == arrival.length) {
            removeSorted(arrival[oldest]);
            arrival[oldest] = value;
            oldest = (oldest + 1) % arrival.length;
        } else {
            arrival[(oldest + size) % arrival.length] = value;
            size++;
        }
        insertSorted(value);
    }

    /**
     * The p-th percentile with numpy's default 'linear' method: rank {@code p/100 * (n-1)},
     * interpolated between its neighbours with numpy's {@code _lerp} (which interpolates from the
     * upper neighbour when the fraction is at least 0.5, for symmetry of rounding).
     */
    double percentile(double p) {
        if (size == 0) {
            return Double.NaN;
        }
        double rank = p / 100.0 * (size - 1);
        int below = (int) Math.floor(rank);
        int above = Math.min(below + 1, size - 1);
        double fraction = rank - below;
        double a = sorted[below];
        double b = sorted[above];
        double difference = b - a;
        return fraction >= 0.5 ? b - difference * (1 - fraction) : a + difference * fraction;
    }

    private void insertSorted(double value) {
        int filled = size - 1;
        int at = Arrays.binarySearch(sorted, 0, filled, value);
        if (at < 0) {
            at = -at - 1;
        }
        System.arraycopy(sorted, at, sorted, at + 1, filled - at);
        sorted[at] = value;
    }

    private void removeSorted(double value) {
        int at = Arrays.binarySearch(sorted, 0, size, value);
        System.arraycopy(sorted, at + 1, sorted, at, size - at - 1);
    }
}
