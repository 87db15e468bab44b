package io.gradguard.core.detect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Spike detector with warm-up 4, alpha 0.5, spike_z 3 over 1, 3, 1, 3, 2, 2.5, 100, worked out by
 * hand (EMA: mean first, then variance with the new mean):
 * <pre>
 * warm-up 1,3,1,3  z = 0, then mean = 2, var = 1
 * g=2    z = 0                              mean 2,    var 0.5
 * g=2.5  z = 0.5/(sqrt(0.5)+1e-6) = 0.70710578  mean 2.25, var 0.25 + 0.5*0.25^2 = 0.28125
 * g=100  z = 97.75/(sqrt(0.28125)+1e-6) = 184.31882 -> explosion; fed 2.25 + (9/z)*sqrt(0.28125)
 *        = 2.27589519: mean 2.26294759, var 0.14070882 (sigma shrinks instead of exploding)
 * </pre>
 */
class SpikeDetectorTest {

    private static SpikeDetector detector() {
        return new SpikeDetector(new DetectorConfig(3.0, 1e-7, 3, 0.5, 4));
    }

    @Test
    void reportsZScoresAgainstTheRunningMeanAfterWarmUp() {
        SpikeDetector detector = detector();
        for (double g : new double[] {1, 3, 1, 3}) {
            assertEquals(new Detection(0.0, false, false), detector.observe(g));
        }
        assertEquals(2.0, detector.mean(), 0);
        assertEquals(1.0, detector.variance(), 0);

        assertEquals(0.0, detector.observe(2).zScore(), 0);
        assertEquals(0.7071057811879616, detector.observe(2.5).zScore(), 1e-12);
        assertEquals(2.25, detector.mean(), 1e-12);
        assertEquals(0.28125, detector.variance(), 1e-12);
    }

    @Test
    void flagsASpikeWithoutLettingItInflateSigma() {
        SpikeDetector detector = detector();
        for (double g : new double[] {1, 3, 1, 3, 2, 2.5}) {
            assertFalse(detector.observe(g).explosion());
        }

        Detection spike = detector.observe(100);

        assertTrue(spike.explosion());
        assertEquals(184.3188200743932, spike.zScore(), 1e-9);
        assertEquals(2.2629475947466533, detector.mean(), 1e-12);
        assertEquals(0.1407088201048618, detector.variance(), 1e-12);
        Detection second = detector.observe(100);
        assertTrue(second.explosion(), "the next spike is not masked by the first");
        assertTrue(second.zScore() > 200, "z = " + second.zScore());
    }

    /** A far too high learning rate explodes in the first steps, before any variance exists. */
    @Test
    void flagsAnOrdersOfMagnitudeJumpDuringWarmUpAgainstTheMeanSoFar() {
        SpikeDetector detector = detector();
        detector.observe(1);
        Detection jump = detector.observe(1e9);
        assertTrue(jump.explosion());
        assertEquals(1e9 - 1, jump.zScore(), 1e-3); // (g - mean) / mean with mean 1
        // the jump entered the warm-up at the bound (1 + spike_z) * mean = 4 (spike_z is 3 here),
        // not at 1e9: the mean is now 2.5 and the bound 4 * 2.5 = 10, so 9 is no explosion
        assertFalse(detector.observe(9).explosion());
    }

    @Test
    void doesNotFlagOrdinaryWarmUpNoise() {
        SpikeDetector detector = detector();
        for (double g : new double[] {2.0, 1.0, 3.0, 0.5}) { // the whole warm-up of 4
            assertEquals(new Detection(0.0, false, false), detector.observe(g));
        }
    }

    @Test
    void reportsVanishingOncePerStreakAfterExactlyNSteps() {
        SpikeDetector detector = detector(); // 3 steps under 1e-7
        double[] norms = {0, 1e-8, 0, 0, 0, 0, 1, 0, 0, 5e-8, 0};
        List<Integer> events = new ArrayList<>();
        for (int step = 0; step < norms.length; step++) {
            if (detector.observe(norms[step]).vanishing()) {
                events.add(step);
            }
        }
        assertEquals(List.of(2, 9), events);
    }

    @Test
    void ignoresNonFiniteNormsEntirely() {
        SpikeDetector detector = detector();
        for (double g : new double[] {1, 3, Double.NaN, 1, Double.POSITIVE_INFINITY, 3}) {
            Detection detection = detector.observe(g);
            if (!Double.isFinite(g)) {
                assertTrue(Double.isNaN(detection.zScore()));
                assertFalse(detection.explosion());
                assertFalse(detection.vanishing());
            }
        }
        assertEquals(2.0, detector.mean(), 0, "NaN and Inf neither counted as warm-up nor averaged");
        assertEquals(1.0, detector.variance(), 0);

        SpikeDetector vanishing = detector();
        vanishing.observe(0);
        vanishing.observe(0);
        assertFalse(vanishing.observe(Double.NaN).vanishing());
        assertTrue(vanishing.observe(0).vanishing(), "a NaN neither breaks nor extends the streak");
    }
}
