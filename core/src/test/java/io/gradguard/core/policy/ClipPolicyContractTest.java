package io.gradguard.core.policy;

import static io.gradguard.core.policy.GradientFixtures.random;
import static io.gradguard.core.policy.GradientFixtures.snapshot;
import static io.gradguard.core.policy.GradientFixtures.statsOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.stats.ParameterGradient;
import io.gradguard.core.stats.StepStats;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every {@link ClipPolicy} passes, over a spread of configurations created through
 * {@link ClipPolicies#create}, on seeded random gradients shaped like a bias, a linear weight and
 * a conv kernel.
 */
class ClipPolicyContractTest {

    /** Gradient scales of the warm-up steps: typical, then a few spikes, so state is exercised. */
    private static final double[] WARMUP_SCALES = {1, 1.2, 0.8, 1, 5, 1, 0.9, 1.1, 40, 1};

    private NDManager manager;

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    static Stream<GradGuardConfig> allPolicies() {
        return Stream.concat(
                idempotentPolicies(),
                Stream.of(
                        PolicyConfigs.defaults("none"),
                        PolicyConfigs.defaults("percentile"),
                        with("percentile", 50, 5),
                        PolicyConfigs.defaults("zscore"),
                        PolicyConfigs.defaults("auto"),
                        zscore(1.0, 0.9, 3, 2.0)));
    }

    static Stream<GradGuardConfig> idempotentPolicies() {
        return Stream.of(
                PolicyConfigs.defaults("value"),
                value(0.05),
                PolicyConfigs.defaults("global-norm"),
                norm("global-norm", 0.5, Double.POSITIVE_INFINITY),
                norm("per-parameter-norm", 0.5, 2),
                norm("per-parameter-norm", 0.1, Double.POSITIVE_INFINITY),
                PolicyConfigs.defaults("agc"),
                agc(0.1));
    }

    @ParameterizedTest
    @MethodSource("allPolicies")
    void neverIncreasesAnyNormAndReportsTrueFigures(GradGuardConfig config) {
        ClipPolicy policy = ClipPolicies.create(config);
        for (int step = 0; step < 40; step++) {
            double scale = WARMUP_SCALES[step % WARMUP_SCALES.length];
            try (NDManager stepManager = manager.newSubManager()) {
                List<ParameterGradient> gradients = random(stepManager, step, scale);
                StepStats before = statsOf(gradients);
                ClipResult result = policy.apply(gradients, before);
                StepStats after = statsOf(gradients);

                for (int i = 0; i < gradients.size(); i++) {
                    double pre = before.parameters().get(i).gradNorm();
                    double post = after.parameters().get(i).gradNorm();
                    assertTrue(
                            post <= pre * (1 + 1e-7),
                            PolicyConfigs.typeOf(config) + " raised a parameter norm " + pre + " -> " + post);
                }
                assertTrue(after.globalNorm() <= before.globalNorm() * (1 + 1e-7));
                assertTrue(Double.isFinite(after.globalNorm()), "finite in, finite out");
                if (!Double.isNaN(result.clippedGlobalNorm())) {
                    assertEquals(
                            after.globalNorm(),
                            result.clippedGlobalNorm(),
                            1e-5 * before.globalNorm(),
                            PolicyConfigs.typeOf(config) + " reported a wrong post-clip norm at step " + step);
                }
                if (!Double.isNaN(result.coefficient())) {
                    assertEquals(after.globalNorm() / before.globalNorm(), result.coefficient(), 1e-5);
                    assertEquals(result.coefficient() < 1.0, result.clipped());
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("allPolicies")
    void leavesAlreadySmallGradientsBitIdentical(GradGuardConfig config) {
        ClipPolicy policy = warmedUp(config);
        List<ParameterGradient> small = random(manager, 1234, 1e-4);
        List<float[]> before = snapshot(small);

        ClipResult result = policy.apply(small, statsOf(small));

        List<float[]> after = snapshot(small);
        for (int i = 0; i < before.size(); i++) {
            assertArrayEquals(
                    before.get(i), after.get(i), 0f, PolicyConfigs.typeOf(config) + " touched a small gradient");
        }
        if (!Double.isNaN(result.coefficient())) {
            assertFalse(result.clipped());
            assertEquals(1.0, result.coefficient());
        }
    }

    @ParameterizedTest
    @MethodSource("allPolicies")
    void finiteInFiniteOutEvenForHugeGradients(GradGuardConfig config) {
        ClipPolicy policy = warmedUp(config);
        List<ParameterGradient> huge = random(manager, 99, 1e6);

        ClipResult result = policy.apply(huge, statsOf(huge));

        for (float[] values : snapshot(huge)) {
            for (float v : values) {
                assertTrue(Float.isFinite(v));
            }
        }
        assertFalse(Double.isInfinite(result.coefficient()));
        assertFalse(Double.isInfinite(result.clippedGlobalNorm()));
    }

    @ParameterizedTest
    @MethodSource("idempotentPolicies")
    void clippingTwiceEqualsClippingOnce(GradGuardConfig config) {
        ClipPolicy policy = ClipPolicies.create(config);
        List<ParameterGradient> gradients = random(manager, 7, 3.0);
        ClipResult first = policy.apply(gradients, statsOf(gradients));
        List<float[]> once = snapshot(gradients);

        policy.apply(gradients, statsOf(gradients));

        List<float[]> twice = snapshot(gradients);
        assertTrue(first.clipped(), PolicyConfigs.typeOf(config) + " should have clipped gradients of scale 3");
        for (int i = 0; i < once.size(); i++) {
            for (int j = 0; j < once.get(i).length; j++) {
                float a = once.get(i)[j];
                assertEquals(a, twice.get(i)[j], 1e-6 * Math.max(1, Math.abs(a)), PolicyConfigs.typeOf(config));
            }
        }
    }

    /** A policy added to the registry is in this contract without anyone listing it here. */
    @org.junit.jupiter.api.Test
    void everyRegisteredPolicyIsExercised() {
        List<String> exercised =
                allPolicies().map(PolicyConfigs::typeOf).distinct().toList();
        for (PolicyType type : ClipPolicies.REGISTERED) {
            assertTrue(exercised.contains(type.name()), type.name() + " is not in the contract test");
        }
    }

    @ParameterizedTest
    @MethodSource("allPolicies")
    void describesItselfWithTheKeysItUses(GradGuardConfig config) {
        ClipPolicy policy = ClipPolicies.create(config);
        assertEquals(PolicyConfigs.typeOf(config), policy.type());
        assertFalse(policy.description().isBlank());
        assertFalse(policy.description().contains("\n"));
        List<String> declared = ClipPolicies.REGISTERED.stream()
                .filter(t -> t.name().equals(policy.type()))
                .flatMap(t -> t.settings().stream())
                .map(k -> k.leaf())
                .toList();
        assertEquals(declared, List.copyOf(policy.settings().keySet()), "labels are the declared settings, in order");
    }

    /** A policy fed 30 steps of typical gradients (past every warm-up here). */
    private ClipPolicy warmedUp(GradGuardConfig config) {
        ClipPolicy policy = ClipPolicies.create(config);
        for (int step = 0; step < 30; step++) {
            try (NDManager stepManager = manager.newSubManager()) {
                List<ParameterGradient> gradients = random(stepManager, 500 + step, 1.0);
                policy.apply(gradients, statsOf(gradients));
            }
        }
        return policy;
    }

    static GradGuardConfig value(double clipValue) {
        return PolicyConfigs.of("value", "policy.clip_value=" + clipValue);
    }

    static GradGuardConfig norm(String type, double maxNorm, double normType) {
        return PolicyConfigs.of(
                type,
                "policy.max_norm=" + maxNorm + ",policy.norm_type="
                        + (Double.isInfinite(normType) ? "inf" : String.valueOf(normType)));
    }

    static GradGuardConfig agc(double lambda) {
        return PolicyConfigs.of("agc", "policy.lambda=" + lambda);
    }

    static GradGuardConfig with(String type, double percentile, int history) {
        return PolicyConfigs.of(type, "policy.percentile=" + percentile + ",policy.history=" + history);
    }

    static GradGuardConfig zscore(double zThreshold, double alpha, int warmupSteps, double maxNorm) {
        return PolicyConfigs.of(
                "zscore",
                "policy.z_threshold=" + zThreshold + ",policy.alpha=" + alpha + ",policy.warmup_steps=" + warmupSteps
                        + (Double.isNaN(maxNorm) ? "" : ",policy.max_norm=" + maxNorm));
    }
}
