package io.gradguard.core.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.guard.GradGuardSchema;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ladder's state machine on its own, fed the per-step figures a run would give it: each rung
 * acts on the condition the README states, and a healthy run sees no action at all.
 */
class RecoveryLadderTest {

    private static final double BOUND = 10.0;
    private static final double NORM = 2.0;
    private static final double RATE = 0.1;

    private static RecoveryLadder auto(String extra) {
        String args = "policy.type=auto" + (extra.isEmpty() ? "" : "," + extra);
        return RecoveryLadder.of(GradGuardSchema.load(args, Map.of(), Map.of()), true);
    }

    /** A healthy step: normal norm, a loss that falls slowly, the job's rate unchanged. */
    private static RecoveryVerdict calm(RecoveryLadder ladder, long step) {
        return ladder.beforeUpdate(step, NORM, false, BOUND, 1.0 / Math.sqrt(step), RATE, true);
    }

    private static RecoveryVerdict explosion(RecoveryLadder ladder, long step) {
        return ladder.beforeUpdate(step, 1.5 * BOUND, true, BOUND, 1.0 / Math.sqrt(step), RATE, true);
    }

    @Test
    void monitoringOnlyAndFixedPoliciesHaveNoLadderUnlessARungIsSwitchedOn() {
        assertNull(RecoveryLadder.of(GradGuardSchema.load("policy.type=none", Map.of(), Map.of()), false));
        assertNull(RecoveryLadder.of(GradGuardSchema.load("policy.type=global-norm", Map.of(), Map.of()), false));
        RecoveryLadder rewindOnly = RecoveryLadder.of(
                GradGuardSchema.load("policy.type=global-norm,recovery.rewind=on", Map.of(), Map.of()), false);
        assertTrue(rewindOnly.rewinds() && !rewindOnly.backsOff());
    }

    @Test
    void aHealthyRunSeesNoActionAndKeepsItsRate() {
        RecoveryLadder ladder = auto("");
        for (long step = 1; step <= 2000; step++) {
            RecoveryVerdict v = calm(ladder, step);
            assertEquals(RecoveryAction.NONE, v.action(), "step " + step);
            assertEquals(1.0, v.lrScale());
        }
        assertEquals("calm", ladder.status().state());
    }

    @Test
    void anIsolatedOutlierIsSkippedAndASpikeIsNot() {
        RecoveryLadder ladder = auto("");
        for (long step = 1; step <= 50; step++) {
            calm(ladder, step);
        }
        RecoveryVerdict outlier = ladder.beforeUpdate(51, 25 * BOUND, true, BOUND, 0.2, RATE, true);
        assertEquals(RecoveryAction.SKIP, outlier.action());
        assertTrue(outlier.skipsUpdate());
        RecoveryVerdict spike = ladder.beforeUpdate(80, 2 * BOUND, true, BOUND, 0.2, RATE, true);
        assertEquals(RecoveryAction.NONE, spike.action(), "a spike below 20x the bound is clipping's business");
    }

    @Test
    void persistentExplosionsBackOffThenCalmRaisesBackToOne() {
        RecoveryLadder ladder = auto("");
        long step = 1;
        for (; step <= 50; step++) {
            calm(ladder, step);
        }
        explosion(ladder, step++);
        explosion(ladder, step++);
        RecoveryVerdict third = explosion(ladder, step++);
        assertEquals(RecoveryAction.BACKOFF, third.action(), "3 explosions within 20 steps");
        assertEquals(0.5, third.lrScale());
        long backedOffAt = step - 1;
        RecoveryVerdict v = null;
        for (; step < backedOffAt + 100; step++) {
            v = calm(ladder, step);
            assertEquals(RecoveryAction.NONE, v.action(), "step " + step);
        }
        v = calm(ladder, step);
        assertEquals(RecoveryAction.RAISE, v.action(), "100 calm steps after the backoff");
        assertEquals(1.0, v.lrScale());
    }

    @Test
    void aJumpOfTheJobsOwnRateIsHeldToThePreviousUpdateSize() {
        RecoveryLadder ladder = auto("");
        for (long step = 1; step <= 50; step++) {
            calm(ladder, step);
        }
        RecoveryVerdict v = ladder.beforeUpdate(51, NORM, false, BOUND, 0.2, 60 * RATE, true);
        assertEquals(RecoveryAction.BACKOFF, v.action());
        assertEquals(1.0 / 60, v.lrScale(), 1e-12, "60x the rate times 1/60: the update size before the jump");
        RecoveryVerdict gentle = auto("").beforeUpdate(1, NORM, false, BOUND, 1.0, RATE, true);
        assertEquals(RecoveryAction.NONE, gentle.action());
        RecoveryLadder warmup = auto("");
        for (long step = 1; step <= 100; step++) {
            // a warm-up schedule doubling the rate every 10 steps is no jump
            double rate = RATE * Math.pow(2, step / 10.0);
            assertEquals(
                    RecoveryAction.NONE,
                    warmup.beforeUpdate(step, NORM, false, BOUND, 1.0, rate, true)
                            .action());
        }
    }

    /**
     * A raise whose trial makes the loss climb by more than 10% is undone: back to the snapshot the
     * raise took, at the level before it, and that level is the ceiling from then on.
     */
    @Test
    void aRaiseThatMakesTheLossClimbIsRewoundAndNeverTriedAgain() {
        RecoveryLadder ladder = auto("");
        for (long step = 1; step <= 50; step++) {
            calm(ladder, step);
        }
        assertEquals(
                RecoveryAction.BACKOFF,
                ladder.beforeUpdate(51, NORM, false, BOUND, 0.14, 60 * RATE, true)
                        .action());
        long step = 52;
        RecoveryVerdict v;
        do {
            v = ladder.beforeUpdate(step, NORM, false, BOUND, 0.14, 60 * RATE, true);
            if (ladder.snapshotDue(step, true)) {
                ladder.snapshotTaken(step);
            }
            step++;
        } while (v.action() != RecoveryAction.RAISE);
        long raisedAt = step - 1;
        assertEquals(2.0 / 60, v.lrScale(), 1e-12);
        do {
            v = ladder.beforeUpdate(step, NORM, false, BOUND, 0.3, 60 * RATE, true);
            step++;
        } while (v.action() == RecoveryAction.NONE && step < raisedAt + RecoveryLadder.TRIAL_STEPS);
        assertEquals(RecoveryAction.REWIND, v.action(), v.status().why());
        assertEquals(step - 1 - raisedAt, v.status().rewoundSteps(), "back to the snapshot taken at the raise");
        assertEquals(1.0 / 60, v.lrScale(), 1e-12);
        assertTrue(v.status().why().startsWith("the loss rose "), v.status().why());
        for (long calmStep = step; calmStep < step + 1000; calmStep++) {
            RecoveryVerdict later = ladder.beforeUpdate(calmStep, NORM, false, BOUND, 0.14, 60 * RATE, true);
            assertEquals(RecoveryAction.NONE, later.action(), "the failed level is never tried again: " + calmStep);
        }
    }

    @Test
    void badStepsInARowRewindAndTooManyRewindsFailTheJob() {
        RecoveryLadder ladder = auto("");
        for (long step = 1; step <= 50; step++) {
            calm(ladder, step);
        }
        ladder.snapshotTaken(1);
        long step = 51;
        for (int rewind = 1; rewind <= 4; rewind++) {
            RecoveryVerdict v;
            int bad = 0;
            do {
                v = ladder.beforeUpdate(step++, Double.NaN, false, BOUND, Double.NaN, RATE, true);
                bad++;
            } while (v.action() == RecoveryAction.NONE || v.action() == RecoveryAction.BACKOFF);
            assertEquals(5, bad, "recovery.diverge_steps bad steps in a row");
            assertEquals(rewind <= 3 ? RecoveryAction.REWIND : RecoveryAction.FAIL, v.action(), "rewind " + rewind);
        }
        assertEquals("exhausted", ladder.status().state());
        assertEquals(
                RecoveryAction.NONE,
                ladder.beforeUpdate(step, Double.NaN, false, BOUND, Double.NaN, RATE, true)
                        .action());
    }
}
