package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.recorder.IncidentFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flight recorder in the real agent jar on the reference trainer: an exploding job leaves one
 * incident file, said in one line, counted on the endpoint and listed on the live page; {@code java -jar gradguard-agent.jar
 * report FILE} prints it as a table and draws its plot (the plotting library relocated in the jar,
 * headless); a healthy Fashion-MNIST run, whose detector sees a lone z-score spike, leaves none.
 */
class FlightRecorderIT {

    @Test
    void anExplodingJobLeavesOneIncidentThatTheReportCommandPrintsAndPlots(@TempDir Path dir) throws Exception {
        Path incidents = dir.resolve("incidents");
        int port = ChildJvm.freePort();
        String offender;
        Path file;
        try (ChildJvm job = ReferenceTrainerIT.trainer(
                "port=" + port + ",summary=0,run=it-incident,incidents.dir=" + incidents,
                List.of(
                        "--scenario",
                        "explode-lr",
                        "--model",
                        "deep-mlp",
                        "--loop",
                        "manual",
                        "--max-steps",
                        "40",
                        "--limit-train",
                        "2560",
                        "--limit-test",
                        "64",
                        "--linger",
                        "60"))) {
            job.awaitOutput("lingering", 180);
            job.awaitOutput("[gradguard] incident: deep-mlp step ", 10);
            List<Path> files = files(incidents);
            assertEquals(1, files.size(), files.toString());
            file = files.get(0);
            IncidentFile incident = IncidentFile.read(file);
            offender = incident.firstOffender().parameter();
            String line = job.output()
                    .lines()
                    .filter(l -> l.startsWith("[gradguard] incident: "))
                    .findFirst()
                    .orElseThrow();
            assertTrue(
                    line.contains("(" + incident.trigger() + "): first offender " + offender + " ")
                            && line.contains(file.toString()),
                    line);
            assertEquals(
                    1,
                    job.output()
                            .lines()
                            .filter(l -> l.startsWith("[gradguard] incident: "))
                            .count(),
                    job.output());
            Map<String, Double> s = ChildJvm.parse(ChildJvm.get("http://127.0.0.1:" + port + "/metrics"));
            for (String trigger : List.of("nonfinite", "explosion", "skip_streak", "rewind", "failure")) {
                assertEquals(
                        trigger.equals(incident.trigger()) ? 1.0 : 0.0,
                        ChildJvm.value(s, "gradguard_incidents_total", "trigger=\"" + trigger + "\""),
                        trigger);
            }
            for (String policy : List.of("global-norm", "percentile", "zscore", "auto")) {
                assertFalse(
                        Double.isNaN(ChildJvm.value(s, "gradguard_shadow_clip_total", "policy=\"" + policy + "\"")),
                        policy);
                assertFalse(
                        Double.isNaN(
                                ChildJvm.value(s, "gradguard_shadow_clip_coefficient", "policy=\"" + policy + "\"")),
                        policy);
            }
            assertEquals(0.0, ChildJvm.value(s, "gradguard_agent_errors_total", "where=\"incidents\""));
            String live = ChildJvm.get("http://127.0.0.1:" + port + "/api/steps");
            assertTrue(
                    live.contains("\"incidents\":[{\"step\":" + incident.step() + ",\"trigger\":\"" + incident.trigger()
                            + "\",\"file\":\"" + file + "\",\"first_offender\":\"" + offender + "\"}]"),
                    "the live page lists it");
            assertEquals("0.1.0-SNAPSHOT", incident.versions().get("gradguard"));
            assertEquals("0.35.1", incident.versions().get("djl"));
            assertEquals("2.7.1", incident.versions().get("engine_version"));
            assertEquals("it-incident", incident.config().get("run"));
        }

        Path png = file.resolveSibling(file.getFileName().toString().replace(".json", ".png"));
        try (ChildJvm report =
                ChildJvm.start(List.of(ChildJvm.JAVA, "-jar", ChildJvm.agentJar(), "report", file.toString()))) {
            assertEquals(0, report.waitFor(60), report.output());
            String out = report.output();
            assertTrue(out.contains("first offender: " + offender + ", left its band at step "), out);
            assertTrue(
                    out.lines().anyMatch(l -> l.startsWith(" 1> " + offender) && l.endsWith("<- first offender")), out);
            assertTrue(out.contains("plot: " + png), out);
        }
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(1200, image.getWidth());
        assertEquals(700, image.getHeight());
        assertTrue(count(image, 0xd62728) > 500, "the first offender's red line is drawn");

        try (ChildJvm usage = ChildJvm.start(List.of(ChildJvm.JAVA, "-jar", ChildJvm.agentJar()))) {
            assertEquals(2, usage.waitFor(30));
            assertTrue(
                    usage.output().contains("<pid> [key=value,...]")
                            && usage.output().contains("report FILE [--steps N]"),
                    usage.output());
        }
        try (ChildJvm missing = ChildJvm.start(List.of(
                ChildJvm.JAVA,
                "-jar",
                ChildJvm.agentJar(),
                "report",
                dir.resolve("none.json").toString()))) {
            assertEquals(1, missing.waitFor(30));
            assertEquals(
                    "gradguard report: no file " + dir.resolve("none.json"),
                    missing.output().strip());
        }
    }

    /**
     * Two epochs of the healthy reference MLP (1,876 steps): the detector counts a z-score spike
     * (step 700 of this seed), but no parameter leaves its band, so no incident is written.
     */
    @Test
    void aHealthyRunLeavesNoIncident(@TempDir Path dir) throws Exception {
        Path incidents = dir.resolve("incidents");
        int port = ChildJvm.freePort();
        try (ChildJvm job = ReferenceTrainerIT.trainer(
                "port=" + port + ",summary=0,incidents.dir=" + incidents,
                List.of(
                        "--model",
                        "mlp",
                        "--loop",
                        "manual",
                        "--epochs",
                        "2",
                        "--limit-test",
                        "64",
                        "--linger",
                        "60"))) {
            job.awaitOutput("lingering", 300);
            Map<String, Double> s = ChildJvm.parse(ChildJvm.get("http://127.0.0.1:" + port + "/metrics"));
            assertEquals(1876.0, ChildJvm.value(s, "gradguard_steps_total"));
            double spikes = ChildJvm.value(s, "gradguard_spikes_total", "kind=\"explosion\"");
            assertTrue(spikes >= 1, "the case the test is for: a lone detector spike in a healthy run");
            assertEquals(0.0, ChildJvm.value(s, "gradguard_incidents_total", "trigger=\"explosion\""));
            assertFalse(Files.exists(incidents), "no incident, no directory");
            assertFalse(job.output().contains("[gradguard] incident: "), job.output());
            System.out.printf("healthy mlp, 1876 steps: %.0f detector spike(s), no incident%n", spikes);
        }
    }

    private static int count(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                n += (image.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json"))
                    .sorted()
                    .toList();
        }
    }
}
