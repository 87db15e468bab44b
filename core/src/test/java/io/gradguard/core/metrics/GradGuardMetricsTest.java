package io.gradguard.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.detect.Detection;
import io.gradguard.core.policy.ClipResult;
import io.gradguard.core.stats.ParameterStats;
import io.gradguard.core.stats.StepStats;
import io.gradguard.core.step.PolicyDescription;
import io.gradguard.core.step.StepAction;
import io.gradguard.core.step.StepReport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

public class GradGuardMetricsTest {

    @Test
    void allowListAndCapLimitPerParameterSeriesAndSayItOnce() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        GradGuardMetrics metrics = new GradGuardMetrics(registry, "m", "r", Pattern.compile(".*weight"), 2);
        StepStats stats = new StepStats(
                List.of(
                        new ParameterStats("a_weight", 1, 1, false, 1), new ParameterStats("a_bias", 2, 2, false, 2),
                        new ParameterStats("b_weight", 3, 3, false, 3), new ParameterStats("c_weight", 4, 4, false, 4)),
                5.477,
                4,
                false);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream old = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            metrics.accept(report(1, stats));
            metrics.accept(report(2, stats));
        } finally {
            System.setErr(old);
        }
        assertEquals(2, registry.find("gradguard.grad.norm").gauges().size(), "allow-list, then cap of 2");
        assertEquals(
                3.0,
                registry.find("gradguard.grad.norm")
                        .tag("parameter", "b_weight")
                        .gauge()
                        .value());
        String log = err.toString(StandardCharsets.UTF_8);
        assertEquals(1, log.split("\n").length, log);
        assertTrue(log.contains("no per-parameter series for a_bias"), log);
    }

    /** A plain applied step whose policy did nothing. */
    public static StepReport report(long step, StepStats stats) {
        return new StepReport(
                "m",
                step,
                0,
                stats,
                ClipResult.untouched(stats.globalNorm()),
                new PolicyDescription("none", "", "no clipping", "skip"),
                StepAction.APPLIED,
                null,
                new Detection(0, false, false),
                0.5,
                null,
                null,
                0,
                1000);
    }
}
