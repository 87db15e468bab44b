package io.gradguard.core.metrics;

import io.gradguard.core.recovery.RecoveryAction;
import io.gradguard.core.recovery.RecoveryStatus;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The metric contract of {@code CONVENTIONS.md}, bound to a Micrometer registry for one model of
 * one run. Every series carries {@code model} and {@code run}; per-parameter series also carry
 * {@code parameter}, limited by an allow-list and a cap.
 *
 * <p>Gauges read plain fields that the training thread writes once per step: a scrape may see a
 * step half-written, which is harmless for monitoring and avoids any lock on the hot path.
 */
public final class GradGuardMetrics implements StepSink {

    /** Log-spaced bucket bounds (1e-6 .. 1e6) of the global-norm histogram. */
    private static final double[] NORM_BUCKETS = logBuckets(-6, 6);

    private final MeterRegistry registry;
    private final Tags tags;
    private final ParameterSeries parameterSeries;
    private final StepGauges step = new StepGauges();
    private final Counter steps;
    private final Counter nonFinite;

    private final Counter spikesExplosion;
    private final Counter spikesVanishing;
    private final DistributionSummary globalNormDistribution;
    private final Timer overhead;
    private final DeferredRecords deferred;
    private final Map<String, Counter> clipCounters = new HashMap<>();
    private final Map<String, Counter> skipCounters = new HashMap<>();
    private final long[] recentOverhead = new long[4096];
    private long recentCount;
    /** The ladder's actions that {@code gradguard_recoveries_total} counts. */
    private static final List<RecoveryAction> COUNTED =
            List.of(RecoveryAction.SKIP, RecoveryAction.BACKOFF, RecoveryAction.REWIND, RecoveryAction.FAIL);

    private final Map<RecoveryAction, Counter> recoveries = new java.util.EnumMap<>(RecoveryAction.class);
    private final Counter rewoundSteps;
    private Gauge policyInfo;
    private PolicyDescription policy;
    private long skippedSteps;
    private final long[] recoveryCounts = new long[RecoveryAction.values().length];

    /**
     * Binds the contract's series for one model.
     *
     * @param registry where the meters live
     * @param model value of the {@code model} label
     * @param run value of the {@code run} label
     * @param parameterFilter allow-list for per-parameter series
     * @param maxParameters cap on parameters with per-parameter series
     */
    public GradGuardMetrics(
            MeterRegistry registry, String model, String run, Pattern parameterFilter, int maxParameters) {
        this.registry = registry;
        this.tags = Tags.of("model", model, "run", run);
        this.parameterSeries = new ParameterSeries(registry, tags, parameterFilter, maxParameters);
        steps = counter("gradguard.steps", "optimizer steps seen", Tags.empty());
        nonFinite = counter(
                "gradguard.grad.nonfinite", "steps in which a parameter's gradient held NaN or Inf", Tags.empty());
        skipCounter("nonfinite"); // at 0 from the start
        spikesExplosion = counter("gradguard.spikes", "detector events", Tags.of("kind", "explosion"));
        spikesVanishing = counter("gradguard.spikes", "detector events", Tags.of("kind", "vanishing"));
        gauge("gradguard.grad.global.norm", "L2 norm over all gradients, before clipping", s -> s.globalNorm);
        gauge("gradguard.grad.global.norm.clipped", "global L2 norm after the policy acted", s -> s.clippedNorm);
        gauge(
                "gradguard.clip.coefficient",
                "factor applied to the global gradient (1 = untouched)",
                s -> s.coefficient);
        gauge(
                "gradguard.grad.global.norm.zscore",
                "z-score of the global norm against its running mean",
                s -> s.zScore);
        gauge("gradguard.loss", "last training loss seen", s -> s.loss);
        gauge(
                "gradguard.lr.scale",
                "factor the agent applies to the job's learning rate (1 = untouched)",
                s -> s.lrScale);
        for (RecoveryAction a : COUNTED) {
            recoveries.put(
                    a,
                    counter(
                            "gradguard.recoveries",
                            "recovery ladder actions",
                            Tags.of("action", a.name().toLowerCase(java.util.Locale.ROOT))));
        }
        rewoundSteps = counter("gradguard.rewound.steps", "optimizer steps undone by rewinds", Tags.empty());
        globalNormDistribution = DistributionSummary.builder("gradguard.grad.global.norm.distribution")
                .description("distribution of the pre-clip global gradient norm")
                .serviceLevelObjectives(NORM_BUCKETS)
                .tags(tags)
                .register(registry);
        overhead = Timer.builder("gradguard.overhead")
                .description("the agent's own time per step on the training thread")
                .publishPercentiles(0.5, 0.99)
                .tags(tags)
                .register(registry);
        deferred = new DeferredRecords(overhead, globalNormDistribution);
    }

    /** Records the steps' pending timer and histogram values of every model: call before rendering a scrape. */
    public static void recordPending() {
        DeferredRecords.drainAll();
    }

    @Override
    public String name() {
        return "metrics";
    }

    /**
     * Records one step's report: a step that DJL's own update threw on is not a step.
     *
     * @param r the report
     */
    @Override
    public void accept(StepReport r) {
        if (r.policy() != policy) {
            setPolicyInfo(r.policy());
        }
        StepStats stats = r.stats();
        recordOverhead(
                r.agentNanos(), r.counted() && Double.isFinite(stats.globalNorm()) ? stats.globalNorm() : Double.NaN);
        if (!r.counted()) {
            return;
        }
        steps.increment();
        step.globalNorm = stats.globalNorm();
        step.clippedNorm = r.clip().clippedGlobalNorm();
        step.coefficient = r.clip().coefficient();
        step.zScore = r.detection().zScore();
        if (!Double.isNaN(r.loss())) {
            step.loss = r.loss();
        }
        if (stats.nonFinite()) {
            nonFinite.increment();
        }
        if (r.clip().clipped()) {
            clipCounter(r.policy().type()).increment();
        }
        if (r.skipped()) {
            skipCounter(r.skipReason()).increment();
            skippedSteps++;
        }
        RecoveryStatus recovery = r.recovery();
        if (recovery != null) {
            step.lrScale = recovery.lrScale();
            // under the ladder a non-finite step's skip is its first rung
            RecoveryAction action =
                    recovery.action() == RecoveryAction.NONE && r.skipped() ? RecoveryAction.SKIP : recovery.action();
            Counter c = recoveries.get(action);
            if (c != null) {
                c.increment();
                recoveryCounts[action.ordinal()]++;
            }
            if (recovery.rewoundSteps() > 0) {
                rewoundSteps.increment(recovery.rewoundSteps());
            }
        }
        if (r.detection().explosion()) {
            spikesExplosion.increment();
        }
        if (r.detection().vanishing()) {
            spikesVanishing.increment();
        }
        parameterSeries.record(stats.parameters(), r.updateRatios());
    }

    /** The agent's own time at one step (in the summary and the exact exit figure), and its norm for the histogram. */
    private void recordOverhead(long nanos, double histogramNorm) {
        deferred.add(nanos, histogramNorm);
        recentOverhead[(int) (recentCount++ % recentOverhead.length)] = nanos;
    }

    /** Replaces the {@code gradguard_policy_info} series with one describing the active policy. */
    private void setPolicyInfo(PolicyDescription next) {
        // the active policy's clip counter exists at 0, so rate() panels and alerts find it
        clipCounter(next.type());
        if (policyInfo != null) {
            registry.remove(policyInfo);
        }
        policy = next;
        policyInfo = Gauge.builder("gradguard.policy.info", () -> 1)
                .description("the active policy and its settings")
                .tags(tags)
                .tags(
                        "policy",
                        next.type(),
                        "settings",
                        next.settings(),
                        "description",
                        next.description(),
                        "on_nonfinite",
                        next.onNonfinite())
                .register(registry);
    }

    private Counter clipCounter(String policyType) {
        return clipCounters.computeIfAbsent(
                policyType, p -> counter("gradguard.clip", "steps the policy clipped", Tags.of("policy", p)));
    }

    /**
     * One line for the log at exit: steps seen and the agent's own time per step.
     *
     * @return e.g. {@code 938 steps, agent overhead per step median 41.2 us, mean 45.0 us}
     */
    public String exitSummary() {
        deferred.drain();
        // exact, from the raw times: the summary's percentiles are histogram-bucket estimates
        long[] recent = java.util.Arrays.copyOf(recentOverhead, (int) Math.min(recentCount, recentOverhead.length));
        java.util.Arrays.sort(recent);
        double median = recent.length == 0 ? Double.NaN : recent[recent.length / 2] / 1000.0;
        return String.format(
                java.util.Locale.ROOT,
                "%d steps, %d skipped, %sagent overhead per step median %.1f us (last %d steps), mean %.1f us",
                (long) steps.count(),
                skippedSteps,
                recoveries(),
                median,
                recent.length,
                overhead.mean(TimeUnit.MICROSECONDS));
    }

    /** {@code recoveries: skip 1, backoff 4, rewind 1, } when the ladder acted, else empty. */
    private String recoveries() {
        StringBuilder out = new StringBuilder();
        for (RecoveryAction a : COUNTED) {
            out.append(out.length() == 0 ? "recoveries: " : ", ")
                    .append(a.name().toLowerCase(java.util.Locale.ROOT))
                    .append(' ')
                    .append(recoveryCounts[a.ordinal()]);
        }
        return Arrays.stream(recoveryCounts).sum() == 0 ? "" : out.append(", ").toString();
    }

    private void gauge(String name, String help, java.util.function.ToDoubleFunction<StepGauges> f) {
        Gauge.builder(name, step, f)
                .description(help)
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    private Counter counter(String name, String help, Tags extra) {
        return Counter.builder(name).description(help).tags(tags).tags(extra).register(registry);
    }

    private Counter skipCounter(String reason) {
        return skipCounters.computeIfAbsent(
                reason, r -> counter("gradguard.skipped.steps", "optimizer updates skipped", Tags.of("reason", r)));
    }

    private static double[] logBuckets(int fromExp, int toExp) {
        double[] b = new double[(toExp - fromExp) * 2 + 1];
        for (int i = 0; i < b.length; i++) {
            b[i] = Math.pow(10, fromExp + i / 2.0);
        }
        return b;
    }

    /** Written by the training thread, read by scrapes. */
    private static final class StepGauges {
        volatile double globalNorm = Double.NaN;
        volatile double clippedNorm = Double.NaN;
        volatile double coefficient = 1.0;
        volatile double zScore;
        volatile double loss = Double.NaN;
        volatile double lrScale = 1.0;
    }
}
