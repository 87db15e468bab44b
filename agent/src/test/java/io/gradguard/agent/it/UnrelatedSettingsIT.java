package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An error in a setting unrelated to clipping never disarms clipping: on the reference trainer's
 * {@code explode-lr} scenario (which diverges without the agent) global-norm clipping rescues the
 * run bit for bit as it does without the broken setting. A bad file at start is said loudly and a
 * later fix of it is applied; a live policy edit is not refused because the file names an
 * {@code auth_file} that has since disappeared.
 */
class UnrelatedSettingsIT {

    private static final List<String> EXPLODE_LR = List.of(
            "--scenario",
            "explode-lr",
            "--max-steps",
            "300",
            "--epochs",
            "1",
            "--limit-train",
            "19200",
            "--limit-test",
            "1000");
    private static final String CLIPPING = "policy.type=global-norm,policy.max_norm=1.0,summary=0";
    private static final Pattern DONE = Pattern.compile("done: (\\d+) steps, test accuracy ([0-9.]+), diverged (\\w+)");
    private static final Pattern WEIGHTS = Pattern.compile("weights sha256 ([0-9a-f]{64})");

    @Test
    void aMissingAuthFileOrAStrayVariableLeavesTheRescueBitForBitAsWithout(@TempDir Path dir) throws Exception {
        String reference = rescued(List.of(), CLIPPING + ",port=0");
        String missingAuth = rescued(
                List.of(), CLIPPING + ",port=" + ChildJvm.freePort() + ",auth_file=" + dir.resolve("no-such-file"));
        String strayHome = rescued(List.of("GRADGUARD_HOME=/opt/gradguard"), CLIPPING + ",port=0");
        assertEquals(reference, missingAuth, "a missing auth_file changed the clipped training");
        assertEquals(reference, strayHome, "a stray GRADGUARD_HOME changed the clipped training");
        System.out.println("[UnrelatedSettingsIT] explode-lr rescued with weights " + reference.substring(0, 16)
                + "... alike with a missing auth_file and with GRADGUARD_HOME set");
    }

    /** Runs explode-lr with the agent; asserts it did not diverge and returns its weights' digest. */
    private static String rescued(List<String> environment, String agentArgs) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("env"));
        cmd.addAll(environment);
        cmd.add(ChildJvm.JAVA);
        cmd.addAll(ChildJvm.DJL_FLAGS);
        cmd.add("-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs);
        cmd.addAll(List.of("-jar", ChildJvm.examplesJar()));
        cmd.addAll(EXPLODE_LR);
        try (ChildJvm job = ChildJvm.start(cmd)) {
            assertEquals(0, job.waitFor(300), job.output());
            String out = job.output();
            Matcher done = DONE.matcher(out);
            assertTrue(done.find(), out);
            assertEquals("false", done.group(3), environment + " " + agentArgs + ":\n" + out);
            assertFalse(out.contains("NOT PROTECTING"), "nothing of protection was unusable:\n" + out);
            if (agentArgs.contains("auth_file")) {
                assertTrue(
                        out.contains("auth_file=")
                                && out.contains("is not a readable file")
                                && out.contains("no metrics endpoint"),
                        "the endpoint, and only it, is off:\n" + out);
            }
            if (!environment.isEmpty()) {
                assertTrue(out.contains("environment variable GRADGUARD_HOME is not a gradguard key"), out);
            }
            Matcher weights = WEIGHTS.matcher(out);
            assertTrue(weights.find(), out);
            System.out.printf(
                    "[UnrelatedSettingsIT] %s %s: diverged false, test accuracy %s%n",
                    environment, agentArgs, done.group(2));
            return weights.group(1);
        }
    }

    @Test
    void aBadFileAtStartIsSaidLoudlyAndItsLaterFixIsApplied(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gradguard.yml");
        Files.writeString(file, "policy:\n  type: global-norm\n   max_norm: [\n");
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0,config=" + file)) {
            job.awaitOutput("gradguard is NOT PROTECTING this job", 60);
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") > 20, 60);
            Files.writeString(file, "policy:\n  type: global-norm\n  max_norm: 0.5\n");
            Map<String, Double> s = ChildJvm.scrapeUntil(
                    port, m -> ChildJvm.value(m, "gradguard_policy_info", "policy=\"global-norm\"") == 1.0, 30);
            assertEquals(1.0, ChildJvm.value(s, "gradguard_config_reloads_total", "result=\"ok\""));
            assertEquals(
                    0.0,
                    ChildJvm.value(s, "gradguard_config_reloads_total", "result=\"rejected\""),
                    "the broken content judged at start is not judged again");
            assertTrue(ChildJvm.value(s, "gradguard_clip_total", "policy=\"global-norm\"") >= 0);
            job.awaitOutput("config reload mended the protection setting said at start", 10);
            job.process.destroy();
            job.waitFor(60);
            assertEquals(
                    1,
                    count(job.output(), "gradguard is NOT PROTECTING this job"),
                    "said at start only:\n" + job.output());
            assertTrue(
                    job.output().contains("protection as configured since a config reload mended the setting"),
                    job.output());
        }
    }

    @Test
    void aLivePolicyEditIsAppliedAfterTheFilesAuthFileDisappeared(@TempDir Path dir) throws Exception {
        Path auth = dir.resolve("auth");
        Files.writeString(auth, "prometheus:secret-" + System.nanoTime() + "\n");
        Files.setPosixFilePermissions(auth, PosixFilePermissions.fromString("rw-------"));
        String basic = "Basic "
                + Base64.getEncoder()
                        .encodeToString(Files.readString(auth).strip().getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve("gradguard.yml");
        Files.writeString(file, "auth_file: " + auth + "\npolicy:\n  type: none\n");
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0,config=" + file)) {
            job.awaitOutput("metrics at http://127.0.0.1:" + port, 60);
            Files.delete(auth); // the endpoint read it at start; it keeps the credentials
            Files.writeString(file, "auth_file: " + auth + "\npolicy:\n  type: global-norm\n  max_norm: 0.5\n");
            job.awaitOutput(
                    "auth_file is not applied while the job runs (only policy.* is), so the reload goes on", 30);
            HttpClient http = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(3))
                    .build();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            Map<String, Double> s = Map.of();
            while (System.nanoTime() < end) {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .header("Authorization", basic)
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                s = ChildJvm.parse(r.body());
                if (ChildJvm.value(s, "gradguard_policy_info", "policy=\"global-norm\"") == 1.0) {
                    break;
                }
                Thread.sleep(200);
            }
            assertEquals(1.0, ChildJvm.value(s, "gradguard_policy_info", "policy=\"global-norm\""), s.toString());
            assertEquals(0.0, ChildJvm.value(s, "gradguard_config_reloads_total", "result=\"rejected\""));
            assertFalse(job.output().contains("config reload rejected"), job.output());
        }
    }

    private static ChildJvm tinyJob(String agentArgs) throws Exception {
        return ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                "-Dtiny.sleepMs=10",
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "100000",
                "0.01"));
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
