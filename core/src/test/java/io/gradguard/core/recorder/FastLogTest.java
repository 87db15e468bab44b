package io.gradguard.core.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FastLogTest {

    /** Within 2e-7 of Math.log from 1e-300 to 1e300, subnormals and exact powers of two included. */
    @Test
    void agreesWithMathLogToTwoTenthsOfAMillionth() {
        Random random = new Random(3);
        double worst = 0;
        for (int i = 0; i < 1_000_000; i++) {
            double x = Math.pow(10, random.nextDouble() * 600 - 300);
            worst = Math.max(worst, Math.abs(FastLog.ln(x) - Math.log(x)));
        }
        for (double x :
                new double[] {Double.MIN_VALUE, 1e-310, 0.5, 1, 2, 1024, Double.MAX_VALUE, Math.nextDown(2.0)}) {
            worst = Math.max(worst, Math.abs(FastLog.ln(x) - Math.log(x)));
        }
        assertEquals(0, worst, 2e-7);
        System.out.println("FastLog: largest difference from Math.log " + worst);
    }
}
