package io.gradguard.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.djl.StorageViews;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The Java sums over views of gradient storage: exact to 1e-7 against a plain double sum at every
 * size around the chunk and block boundaries, NaN and Inf carried through, max |g| found wherever
 * it lies.
 */
class HostSumsTest {

    private static final int CHUNK = StorageViews.CHUNK_FLOATS;

    private static final int[] SIZES = {1, 7, 63, 64, 65, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 4096, 8192, 10_007};

    @Test
    void sumOfSquaresIsTheDoubleSumToOnePartInTenMillion() {
        HostSums sums = new HostSums();
        Random random = new Random(3);
        for (int n : SIZES) {
            FloatBuffer v = view(n);
            double expected = 0;
            for (int i = 0; i < n; i++) {
                float x = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(7) - 3));
                v.put(i, x);
                expected += (double) x * x;
            }
            double got = sums.sumOfSquares(v);
            assertEquals(expected, got, 1e-7 * expected, "n=" + n);
        }
        assertEquals(0.0, sums.sumOfSquares(view(0)), 0.0);
    }

    @Test
    void nanAndInfAreCarriedThroughAndAnOverflowingSquareIsInf() {
        HostSums sums = new HostSums();
        assertTrue(Double.isNaN(sums.sumOfSquares(withAt(4096, 3000, Float.NaN))));
        assertEquals(Double.POSITIVE_INFINITY, sums.sumOfSquares(withAt(4096, 17, Float.NEGATIVE_INFINITY)));
        assertEquals(Double.POSITIVE_INFINITY, sums.sumOfSquares(withAt(4096, 100, 3e19f)), "as the native dot");
        assertTrue(Double.isNaN(sums.sumOfSquares(withAt(70, 69, Float.NaN))), "in the tail after the blocks");
    }

    @Test
    void maxAbsIsFoundInEveryChunkAndNanRanksFirst() {
        HostSums sums = new HostSums();
        for (int n : SIZES) {
            for (int at : new int[] {0, n / 2, n - 1}) {
                assertEquals(5.5, sums.maxAbs(withAt(n, at, -5.5f)), 0.0, "n=" + n + " at " + at);
            }
        }
        FloatBuffer both = withAt(5000, 4100, Float.POSITIVE_INFINITY);
        both.put(10, Float.NaN);
        assertTrue(Double.isNaN(sums.maxAbs(both)));
        assertEquals(Double.POSITIVE_INFINITY, sums.maxAbs(withAt(5000, 4999, Float.NEGATIVE_INFINITY)));
    }

    /** n floats of 0.25 or -0.25, with {@code value} at {@code at}. */
    private static FloatBuffer withAt(int n, int at, float value) {
        FloatBuffer v = view(n);
        for (int i = 0; i < n; i++) {
            v.put(i, i % 2 == 0 ? 0.25f : -0.25f);
        }
        v.put(at, value);
        return v;
    }

    /** A view like those of gradient storage: direct, in native order. */
    private static FloatBuffer view(int n) {
        return ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
