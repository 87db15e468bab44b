package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The agent on the reference trainer, started unchanged in a child JVM with -javaagent. */
class ReferenceTrainerIT {

    static final List<String> CONTRACT = List.of(
            "gradguard_steps_total",
            "gradguard_grad_norm",
            "gradguard_grad_max_abs",
            "gradguard_grad_global_norm",
            "gradguard_grad_global_norm_clipped",
            "gradguard_grad_global_norm_distribution_bucket",
            "gradguard_grad_global_norm_distribution_count",
            "gradguard_grad_global_norm_distribution_sum",
            "gradguard_param_norm",
            "gradguard_update_ratio",
            "gradguard_grad_nonfinite_total",
            "gradguard_clip_total",
            "gradguard_clip_coefficient",
            "gradguard_skipped_steps_total",
            "gradguard_spikes_total",
            "gradguard_grad_global_norm_zscore",
            "gradguard_loss",
            "gradguard_overhead_seconds_count",
            "gradguard_overhead_seconds_sum",
            "gradguard_agent_errors_total",
            "gradguard_policy_info",
            "gradguard_config_reloads_total");

    private static final Pattern NORM = Pattern.compile("\"([^\"]+)\":([-0-9.eE]+|\"NaN\"|\"Infinity\")");

    @ParameterizedTest
    @ValueSource(strings = {"easy", "manual"})
    void exportsEveryContractSeriesWithNormsEqualToTheJobsOwn(String loop) throws Exception {
        int port = ChildJvm.freePort();
        Path norms = Files.createTempFile("grad-norms", ".jsonl");
        List<String> args = new ArrayList<>(List.of(
                "--model",
                "mlp",
                "--loop",
                loop,
                "--max-steps",
                "60",
                "--limit-train",
                "6400",
                "--limit-test",
                "256",
                "--linger",
                "60"));
        if (loop.equals("manual")) {
            args.addAll(List.of("--grad-norms", norms.toString()));
        }
        try (ChildJvm job = trainer("port=" + port + ",summary=0,update_ratio_every=1,run=it-" + loop, args)) {
            job.awaitOutput("lingering", 120);
            String scrape = ChildJvm.get("http://127.0.0.1:" + port + "/metrics");
            Map<String, Double> s = ChildJvm.parse(scrape);
            // the README's metrics table lists exactly what is exported
            assertEquals(ReadmeMetricsTable.scrapedNames(), ReadmeMetricsTable.namesIn(scrape));
            for (String name : CONTRACT) {
                assertFalse(
                        Double.isNaN(ChildJvm.value(s, name)) && !hasSeries(s, name), name + " missing from /metrics");
            }
            assertEquals(60.0, ChildJvm.value(s, "gradguard_steps_total", "run=\"it-" + loop + "\"", "model=\"mlp\""));
            assertTrue(Double.isFinite(ChildJvm.value(s, "gradguard_loss")), "loss");
            assertEquals(
                    "ok",
                    ChildJvm.get("http://127.0.0.1:" + port + "/-/healthy")
                            .trim()
                            .toLowerCase()
                            .replace("exporter is healthy.", "ok"));
            if (loop.equals("manual")) {
                List<String> lines = Files.readAllLines(norms);
                assertEquals(60, lines.size());
                String last = lines.get(59);
                assertTrue(last.startsWith("{\"step\":60,"), last);
                Matcher m = NORM.matcher(last.substring(last.indexOf("\"norms\"")));
                int compared = 0;
                while (m.find()) {
                    double own = Double.parseDouble(m.group(2));
                    double scraped = ChildJvm.value(s, "gradguard_grad_norm", "parameter=\"" + m.group(1) + "\"");
                    assertEquals(own, scraped, Math.abs(own) * 1e-5, m.group(1));
                    compared++;
                }
                assertEquals(6, compared, "mlp has 6 parameters");
                System.out.printf("manual loop: %d per-parameter norms equal to the job's own to 1e-5%n", compared);
            }
        }
    }

    @Test
    void monitoringOnlyTrainsBitForBitAsWithoutTheAgent() throws Exception {
        List<String> args =
                List.of("--model", "mlp", "--max-steps", "150", "--limit-train", "9600", "--limit-test", "256");
        String bare = digest(null, args);
        String monitored = digest("port=0,summary=0,policy.type=none,update_ratio_every=1", args);
        System.out.println("weights sha256 bare " + bare + ", with agent " + monitored);
        assertEquals(bare, monitored);
    }

    /**
     * Each exploding scenario diverges without the agent (proved by the examples' tests with the
     * same seed) and trains with it under its recommended policy.
     */
    @ParameterizedTest
    @CsvSource({
        "explode-lr,   policy.type=global-norm;policy.max_norm=1.0,   0.60",
        "explode-init, policy.type=global-norm;policy.max_norm=1.0,   0.30",
        "explode-rnn,  policy.type=global-norm;policy.max_norm=1.0,   0.25",
        "nan-inject,   policy.type=none,                              0.75"
    })
    void explodingScenarioTrainsWithTheRecommendedPolicy(String scenario, String policy, double minAccuracy)
            throws Exception {
        int port = ChildJvm.freePort();
        List<String> args = List.of(
                "--scenario",
                scenario,
                "--max-steps",
                "300",
                "--epochs",
                "1",
                "--limit-train",
                "19200",
                "--limit-test",
                "1000",
                "--linger",
                "60");
        try (ChildJvm job = trainer("port=" + port + ",summary=0," + policy.replace(';', ','), args)) {
            job.awaitOutput("lingering", 180);
            String out = job.output();
            Matcher done = Pattern.compile("done: (\\d+) steps, test accuracy ([0-9.]+), diverged (\\w+)")
                    .matcher(out);
            assertTrue(done.find(), out);
            double accuracy = Double.parseDouble(done.group(2));
            System.out.printf(
                    "%s with %s: diverged %s, test accuracy %.4f%n", scenario, policy, done.group(3), accuracy);
            assertEquals("false", done.group(3), out);
            assertTrue(accuracy >= minAccuracy, scenario + " accuracy " + accuracy);
            Map<String, Double> s = ChildJvm.parse(ChildJvm.get("http://127.0.0.1:" + port + "/metrics"));
            if (scenario.equals("nan-inject")) {
                assertEquals(
                        1.0,
                        ChildJvm.value(s, "gradguard_skipped_steps_total", "reason=\"nonfinite\""),
                        "exactly the poisoned step");
                assertEquals(1.0, ChildJvm.value(s, "gradguard_grad_nonfinite_total"));
            } else {
                assertTrue(ChildJvm.value(s, "gradguard_clip_total", "policy=\"global-norm\"") > 0, "the policy acted");
            }
        }
    }

    @Test
    void policyFileEditsApplyWhileTrainingAndBrokenOnesAreRejected() throws Exception {
        int port = ChildJvm.freePort();
        Path file = Files.createTempFile("gradguard", ".yml");
        Files.writeString(file, "policy:\n  type: none\n");
        List<String> args = List.of("--model", "mlp", "--epochs", "50", "--limit-train", "6400", "--limit-test", "64");
        try (ChildJvm job = trainer("port=" + port + ",summary=0,config=" + file, args)) {
            String url = "http://127.0.0.1:" + port + "/metrics";
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") > 20, 120);
            Files.writeString(file, "policy:\n  type: global-norm\n  max_norm: 0.5\n");
            double editedAt = ChildJvm.value(ChildJvm.parse(ChildJvm.get(url)), "gradguard_steps_total");
            Map<String, Double> after = ChildJvm.scrapeUntil(
                    port, m -> ChildJvm.value(m, "gradguard_policy_info", "policy=\"global-norm\"") == 1.0, 20);
            double seenAt = ChildJvm.value(after, "gradguard_steps_total");
            System.out.printf("policy edit seen %.0f steps after the write%n", seenAt - editedAt);
            assertEquals(1.0, ChildJvm.value(after, "gradguard_config_reloads_total", "result=\"ok\""));
            assertTrue(ChildJvm.value(after, "gradguard_policy_info", "max_norm=0.5") == 1.0, after.toString());

            Files.writeString(file, "policy:\n  type: global-norm\n  max_norm: -3\n");
            Map<String, Double> rejected = ChildJvm.scrapeUntil(
                    port, m -> ChildJvm.value(m, "gradguard_config_reloads_total", "result=\"rejected\"") == 1.0, 20);
            assertEquals(
                    1.0,
                    ChildJvm.value(rejected, "gradguard_policy_info", "policy=\"global-norm\""),
                    "old policy kept");
            assertTrue(Double.isNaN(ChildJvm.value(rejected, "gradguard_policy_info", "policy=\"none\"")));
            job.awaitOutput("config reload rejected", 10);
        }
    }

    static ChildJvm trainer(String agentArgs, List<String> trainerArgs) throws Exception {
        return trainer(agentArgs, trainerArgs, Map.of());
    }

    static ChildJvm trainer(String agentArgs, List<String> trainerArgs, Map<String, String> environment)
            throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ChildJvm.JAVA);
        cmd.addAll(ChildJvm.DJL_FLAGS);
        if (agentArgs != null) {
            cmd.add("-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs);
        }
        cmd.addAll(Arrays.asList("-jar", ChildJvm.examplesJar()));
        cmd.addAll(trainerArgs);
        return ChildJvm.start(cmd, environment);
    }

    private static String digest(String agentArgs, List<String> args) throws Exception {
        try (ChildJvm job = trainer(agentArgs, args)) {
            assertEquals(0, job.waitFor(180), job.output());
            Matcher m = Pattern.compile("weights sha256 ([0-9a-f]{64})").matcher(job.output());
            assertTrue(m.find(), job.output());
            return m.group(1);
        }
    }

    private static boolean hasSeries(Map<String, Double> s, String name) {
        return s.keySet().stream().anyMatch(k -> k.equals(name) || k.startsWith(name + "{"));
    }
}
