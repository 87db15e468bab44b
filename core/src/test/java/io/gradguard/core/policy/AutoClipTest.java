package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutoClipTest {

    /** Two parameters whose norms make the given global gradient norm and weight norm. */
    private static StepStats step(double gradNorm, double weightNorm) {
        double g = gradNorm / Math.sqrt(2);
        double w = weightNorm / Math.sqrt(2);
        return new StepStats(
                List.of(new ParameterStats("a", g, g, false, w), new ParameterStats("b", g, g, false, w)),
                gradNorm,
                g,
                false);
    }

    @Test
    void aFirstGradientLargerThanTheWeightsIsClippedToTheirNormAndSeedsTheWarmUp() {
        AutoClip auto = new AutoClip();
        assertTrue(auto.needsWeightNorms());
        assertEquals(7.0 / (882.0 + 1e-6), auto.decide(step(882, 7)), 1e-9);
        assertFalse(auto.needsWeightNorms());
        // the warm-up bound is 3x the mean so far, and the mean starts at the clipped 7, not at 882
        assertEquals(1.0, auto.decide(step(20, Double.NaN)), 0.0);
        assertEquals(3 * 13.5 / (500 + 1e-6), auto.decide(step(500, Double.NaN)), 1e-9);
    }

    @Test
    void aHealthyFirstStepIsLeftAlone() {
        AutoClip auto = new AutoClip();
        assertEquals(1.0, auto.decide(step(2.0, 23.0)), 0.0);
        assertFalse(auto.needsWeightNorms());
    }

    @Test
    void withoutWeightNormsTheFirstStepPassesAsBefore() {
        assertEquals(1.0, new AutoClip().decide(step(882, Double.NaN)), 0.0);
    }

    @Test
    void aRestoredStateBringsBackTheFirstStepRule() {
        AutoClip auto = new AutoClip();
        Object initial = auto.saveState();
        auto.decide(step(2.0, 23.0));
        auto.restoreState(initial);
        assertTrue(auto.needsWeightNorms());
        assertEquals(7.0 / (882.0 + 1e-6), auto.decide(step(882, 7)), 1e-9);
    }
}
