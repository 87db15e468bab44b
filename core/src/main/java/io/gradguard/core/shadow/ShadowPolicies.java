package io.gradguard.core.shadow;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.policy.ClipPolicy;
import io.gradguard.core.policy.GlobalNormPolicy;
import io.gradguard.core.policy.PolicyType;
import io.gradguard.core.stats.StepStats;
import java.util.ArrayList;
import java.util.List;

/**
 * Every registered {@link GlobalNormPolicy} (global-norm, percentile, zscore, auto), made from the
 * configuration as {@code policy.type} would make it (its own settings or their defaults), and
 * asked at every step what it would do with the same statistics the active policy sees. None of
 * them touches a gradient; each advances its own state exactly as it would when active.
 *
 * <p>Not thread-safe: the training thread of one trainer evaluates it.
 */
public final class ShadowPolicies {

    private final List<String> names;
    private final GlobalNormPolicy[] policies;
    private final double[] coefficients;

    private ShadowPolicies(List<String> names, GlobalNormPolicy[] policies) {
        this.names = List.copyOf(names);
        this.policies = policies;
        this.coefficients = new double[policies.length];
        java.util.Arrays.fill(coefficients, Double.NaN);
    }

    /**
     * Fresh policies (empty histories and EMAs) with the configuration's settings.
     *
     * @param config the configuration; a policy's unset settings take their defaults
     * @return the shadow policies
     */
    public static ShadowPolicies of(GradGuardConfig config) {
        List<String> names = new ArrayList<>();
        List<GlobalNormPolicy> made = new ArrayList<>();
        for (PolicyType type : ClipPolicies.REGISTERED) {
            ClipPolicy policy = type.create(config);
            if (policy instanceof GlobalNormPolicy norm) {
                names.add(type.name());
                made.add(norm);
            }
        }
        return new ShadowPolicies(names, made.toArray(new GlobalNormPolicy[0]));
    }

    /** @return the policies' {@code policy.type} names, in registration order */
    public List<String> names() {
        return names;
    }

    /**
     * Asks every policy for this step's factor.
     *
     * @param stats the step's pre-clip statistics
     */
    public void evaluate(StepStats stats) {
        boolean withMaxAbs = !Double.isNaN(stats.globalMaxAbs()) || stats.nonFinite();
        for (int i = 0; i < policies.length; i++) {
            // An inf-norm policy needs max |g|, which the engine measures every step only for an
            // active policy that asks for it: without it the shadow cannot say, rather than guess.
            coefficients[i] = policies[i].needsMaxAbs() && !withMaxAbs ? Double.NaN : policies[i].decide(stats);
        }
    }

    /**
     * The factor policy {@code i} would have applied at the last evaluated step.
     *
     * @param i the index in {@link #names()}
     * @return below 1 when it would have clipped, 1 when not; NaN when it could not tell
     */
    public double coefficient(int i) {
        return coefficients[i];
    }

    /**
     * Whether policy {@code i} would have clipped at the last evaluated step.
     *
     * @param i the index in {@link #names()}
     * @return true when its factor is below 1
     */
    public boolean clipped(int i) {
        return coefficients[i] < 1.0;
    }
}
