package io.gradguard.core.shadow;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The norm-based policies in shadow: each step's statistics go to {@link ShadowPolicies}, and
 * {@code gradguard_shadow_clip_total{policy}} and {@code gradguard_shadow_clip_coefficient{policy}}
 * say what each would have done, beside {@code gradguard_clip_total} of the active policy. Counted
 * on the steps the active policy's counter counts (DJL's own failed updates are not steps), while
 * every report advances the policies' state, as the active policy's is advanced.
 *
 * <p>A policy reload (a new {@link PolicyDescription} in the reports) makes them anew from the
 * reloaded settings, as it makes the active policy anew. A rewind of the recovery ladder does not
 * rewind them: they describe the norms the run saw.
 */
public final class ShadowSink implements StepSink {

    private final Tags tags;
    private static final java.util.Map<MeterRegistry, java.util.Map<String, double[]>> SHARED =
            new java.util.WeakHashMap<>();

    private final Supplier<Optional<GradGuardConfig>> reloads;
    private GradGuardConfig config;
    private ShadowPolicies shadows;
    private final Counter[] clips;
    private final double[] coefficients;
    private PolicyDescription seen;

    /**
     * Creates the shadow policies of one trainer and their series.
     *
     * @param registry where the series live
     * @param model value of the {@code model} label
     * @param config the starting configuration
     * @param reloads the trainer's accepted policy reloads; polled once now, then only after a report
     *     shows one
     */
    public ShadowSink(
            MeterRegistry registry, String model, GradGuardConfig config, Supplier<Optional<GradGuardConfig>> reloads) {
        this.tags = Tags.of("model", model, "run", config.run());
        this.reloads = reloads;
        // a trainer made after a reload starts from the reloaded policy, as its engine does
        this.config = reloads.get().map(config::withPolicyFrom).orElse(config);
        this.shadows = ShadowPolicies.of(this.config);
        List<String> names = shadows.names();
        coefficients = sharedCoefficients(registry, model, names.size());
        clips = new Counter[names.size()];
        for (int i = 0; i < clips.length; i++) {
            Tags p = tags.and("policy", names.get(i));
            clips[i] = Counter.builder("gradguard.shadow.clip")
                    .description("steps a policy evaluated in shadow would have clipped")
                    .tags(p)
                    .register(registry);
            int at = i;
            Gauge.builder("gradguard.shadow.clip.coefficient", coefficients, c -> c[at])
                    .description("factor a policy evaluated in shadow would have applied at the last step")
                    .tags(p)
                    .strongReference(true)
                    .register(registry);
        }
    }

    /**
     * The gauges' values of one model: sequential trainers of a model share its series (a gauge
     * registered again is the first one), so they must write where the first one reads.
     */
    private static double[] sharedCoefficients(MeterRegistry registry, String model, int size) {
        synchronized (SHARED) {
            return SHARED.computeIfAbsent(registry, r -> new java.util.HashMap<>())
                    .computeIfAbsent(model, m -> {
                        double[] values = new double[size];
                        java.util.Arrays.fill(values, Double.NaN);
                        return values;
                    });
        }
    }

    @Override
    public String name() {
        return "shadow";
    }

    @Override
    public void accept(StepReport r) {
        if (r.policy() != seen) {
            if (seen != null) {
                Optional<GradGuardConfig> next = reloads.get();
                if (next.isPresent()) {
                    config = config.withPolicyFrom(next.get());
                    shadows = ShadowPolicies.of(config);
                }
            }
            seen = r.policy();
        }
        shadows.evaluate(r.stats());
        if (!r.counted()) {
            return;
        }
        for (int i = 0; i < coefficients.length; i++) {
            coefficients[i] = shadows.coefficient(i);
            if (shadows.clipped(i)) {
                clips[i].increment();
            }
        }
    }
}
