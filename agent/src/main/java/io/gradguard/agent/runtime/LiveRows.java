package io.gradguard.agent.runtime;

/**
 * The rows a reader copied out, oldest first, all columns aligned; {@code gradNorms[j][i]} is
 * parameter j at row i.
 */
record LiveRows(
        long[] step,
        long[] wallMillis,
        double[] loss,
        double[] globalNorm,
        double[] clippedNorm,
        double[] coefficient,
        double[] zScore,
        long[] agentNanos,
        byte[] flags,
        long[] skippedTotal,
        long[] clippedTotal,
        long[] explosionsTotal,
        long[] vanishingTotal,
        float[][] gradNorms) {

    int size() {
        return step.length;
    }

    /** Rows to fill: {@code n} of each column, the gradient norms in the arrays given. */
    static LiveRows allocate(int n, float[][] gradNorms) {
        return new LiveRows(
                new long[n],
                new long[n],
                new double[n],
                new double[n],
                new double[n],
                new double[n],
                new double[n],
                new long[n],
                new byte[n],
                new long[n],
                new long[n],
                new long[n],
                new long[n],
                gradNorms);
    }

    /** The copied rows without those the writer may have overwritten, and only steps above afterStep. */
    LiveRows withoutOverwritten(long from, long overwrittenBelow, long afterStep) {
        LiveRows c = this;
        int skip = (int) Math.max(0, Math.min(c.size(), overwrittenBelow - from));
        while (skip < c.size() && c.step()[skip] <= afterStep) {
            skip++;
        }
        if (skip == 0) {
            return c;
        }
        int n = c.size() - skip;
        float[][] grads = new float[c.gradNorms().length][];
        for (int j = 0; j < grads.length; j++) {
            grads[j] = java.util.Arrays.copyOfRange(c.gradNorms()[j], skip, skip + n);
        }
        return new LiveRows(
                tail(c.step(), skip),
                tail(c.wallMillis(), skip),
                tail(c.loss(), skip),
                tail(c.globalNorm(), skip),
                tail(c.clippedNorm(), skip),
                tail(c.coefficient(), skip),
                tail(c.zScore(), skip),
                tail(c.agentNanos(), skip),
                java.util.Arrays.copyOfRange(c.flags(), skip, c.size()),
                tail(c.skippedTotal(), skip),
                tail(c.clippedTotal(), skip),
                tail(c.explosionsTotal(), skip),
                tail(c.vanishingTotal(), skip),
                grads);
    }

    private static long[] tail(long[] a, int skip) {
        return java.util.Arrays.copyOfRange(a, skip, a.length);
    }

    private static double[] tail(double[] a, int skip) {
        return java.util.Arrays.copyOfRange(a, skip, a.length);
    }
}
