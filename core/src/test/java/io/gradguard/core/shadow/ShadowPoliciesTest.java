package io.gradguard.core.shadow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.jobs.MlpJob;
import io.gradguard.core.step.StepReport;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A policy in shadow does what the same policy does when it is the active one: on a real DJL job
 * (PyTorch engine) whose gradients spike now and then and go NaN once, the active policy clips the
 * job's gradients while its shadow twin, fed the same statistics, says at every step the factor it
 * would have applied. The two agree step by step, and so do their counters.
 */
class ShadowPoliciesTest {

    private static final List<String> SHADOWED = List.of("global-norm", "percentile", "zscore", "auto");

    @ParameterizedTest
    @ValueSource(strings = {"global-norm", "percentile", "zscore", "auto"})
    void theShadowOfAPolicyMatchesThePolicyActingStepByStep(String type) {
        // max_norm 4: the job's norms of about 3 are clipped at some steps only
        String settings = type.equals("global-norm") ? ",policy.max_norm=4" : "";
        try (MlpJob job = new MlpJob("incidents.dir=off,policy.type=" + type + settings, 21)) {
            int clipped = 0;
            for (int s = 1; s <= 400; s++) {
                boolean spike = s % 97 == 0;
                StepReport r = job.step(spike ? "05Linear_weight" : null, -1f, s == 150);
                double shadow = job.gauge("gradguard.shadow.clip.coefficient", "policy", type);
                if (r.stats().nonFinite()) {
                    assertEquals(1.0, shadow, 0.0, "a non-finite step: no policy acts, step " + s);
                    continue;
                }
                assertEquals(r.clip().coefficient(), shadow, 0.0, type + " at step " + s);
                clipped += r.clip().clipped() ? 1 : 0;
            }
            double active = job.counter("gradguard.clip", "policy", type);
            assertEquals(active, job.counter("gradguard.shadow.clip", "policy", type), type);
            assertEquals(clipped, active, 0.0);
            assertTrue(clipped > 0 && clipped < 400, type + " clipped some steps only: " + clipped);
            System.out.printf("%s: active and shadow agree at every step; both clipped %d of 400%n", type, clipped);
        }
    }

    /** In shadow they never act: a job trains exactly as with shadows off, whose series then do not exist. */
    @Test
    void shadowsTouchNoGradientAndOffMeansNoSeries() {
        List<java.util.Map<String, Double>> withShadows;
        try (MlpJob job = new MlpJob("incidents.dir=off", 2)) {
            for (int s = 0; s < 60; s++) {
                job.step();
            }
            for (String type : SHADOWED) {
                double c = job.gauge("gradguard.shadow.clip.coefficient", "policy", type);
                assertTrue(c > 0 && c <= 1, type + " " + c);
            }
            assertTrue(job.counter("gradguard.shadow.clip", "policy", "global-norm") > 0, "max_norm 1 would clip");
            withShadows = job.ownNorms;
        }
        try (MlpJob job = new MlpJob("incidents.dir=off,shadow_policies=false", 2)) {
            for (int s = 0; s < 60; s++) {
                job.step();
            }
            assertTrue(job.registry.find("gradguard.shadow.clip").counters().isEmpty());
            assertEquals(withShadows, job.ownNorms, "the same gradients at every step, to the bit");
        }
    }
}
