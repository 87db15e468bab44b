package io.gradguard.core.recorder;

/**
 * The natural logarithm to about 1e-7 (absolute) in a few nanoseconds: the exponent of the
 * double, plus the logarithm of its mantissa interpolated in a table of 1,025 values (8 KiB).
 * {@link Math#log} costs about 30 ns on the reference machine, which at 500 parameters would be
 * 15 us of every step of the flight recorder's bands; the bands need nothing near its precision.
 */
final class FastLog {

    private static final int BITS = 10;
    private static final double LN2 = Math.log(2);
    private static final double[] TABLE = new double[(1 << BITS) + 1];
    private static final long FRACTION_MASK = (1L << (52 - BITS)) - 1;
    private static final double FRACTION_SCALE = 1.0 / (1L << (52 - BITS));

    static {
        for (int i = 0; i < TABLE.length; i++) {
            TABLE[i] = Math.log1p(i / (double) (1 << BITS));
        }
    }

    private FastLog() {}

    /**
     * ln x for a positive finite x (subnormals go to {@link Math#log}).
     *
     * @param x the value
     * @return its natural logarithm, within about 1e-7
     */
    static double ln(double x) {
        long bits = Double.doubleToRawLongBits(x);
        int exponent = (int) ((bits >>> 52) & 0x7ff);
        if (exponent == 0) {
            return Math.log(x);
        }
        long mantissa = bits & 0xfffffffffffffL;
        int cell = (int) (mantissa >>> (52 - BITS));
        double within = (mantissa & FRACTION_MASK) * FRACTION_SCALE;
        double below = TABLE[cell];
        return (exponent - 1023) * LN2 + below + (TABLE[cell + 1] - below) * within;
    }
}
