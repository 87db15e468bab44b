package io.gradguard.core.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.console.Console;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.metrics.AgentErrors;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The incident files on a real file system: symbolic links are never followed, a full queue drops
 * and counts, a directory that fails says so once, an incident's later steps rewrite its one file,
 * and what the file lists of the configuration holds no secret.
 */
class IncidentWriterTest {

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @BeforeEach
    void captureConsole() {
        Console.redirect(new PrintStream(console, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void releaseConsole() {
        Console.redirect(null);
    }

    /** Checked on the writer's thread as the agent starts: one line, then every incident is lost and counted. */
    @Test
    void aDirectoryThatIsASymbolicLinkIsRefusedWithOneLine(@TempDir Path tmp) throws IOException {
        Path real = Files.createDirectory(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        GradGuardConfig config = config("incidents.dir=" + link);
        IncidentWriter writer = IncidentWriter.open(config, errors());
        new FlightRecorder(registry, "m", config, writer, null)
                .accept(new Reports(2).step(1, new double[] {Double.NaN, 1}, false));
        writer.close();
        assertEquals(
                List.of("[gradguard] incidents.dir " + link + " is a symbolic link, which the flight recorder does not"
                        + " follow; name the directory itself; no incident files (set incidents.dir to a writable directory, or"
                        + " incidents.dir=off)"),
                lines());
        assertEquals(List.of(), FlightRecorderTest.files(real));
        assertEquals(1.0, errorCount(), "the incident is lost and counted");
        assertEquals(
                0.0,
                registry.find("gradguard.incidents")
                        .tags("trigger", "nonfinite")
                        .counter()
                        .count());
        Path file = Files.writeString(tmp.resolve("plain"), "x");
        IncidentWriter.open(config("incidents.dir=" + file), errors()).close();
        IncidentWriter.open(config("incidents.dir=" + file.resolve("below")), errors())
                .close();
        assertTrue(lines().get(1).contains(" is not a directory;"), lines().toString());
        assertTrue(lines().get(2).contains(" cannot be created (" + file + " is not a directory)"), lines().toString());
    }

    /** A link planted under the next file's name, and one put in place of a written file. */
    @Test
    void linksInTheDirectoryAreNeverFollowed(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("incidents"));
        Path victim = Files.writeString(tmp.resolve("victim.txt"), "keep me");
        Path planted = dir.resolve("incident-synthetic-r1-step30.json");
        Files.createSymbolicLink(planted, victim);
        AgentErrors errors = errors();
        IncidentWriter writer = IncidentWriter.open(config("run=r1,incidents.dir=" + dir), errors);
        CountDownLatch written = new CountDownLatch(1);
        FlightRecorder recorder = new FlightRecorder(
                registry, "synthetic", config("run=r1,incidents.dir=" + dir), writer, n -> written.countDown());
        Reports reports = new Reports(4);
        for (long s = 1; s < 30; s++) {
            recorder.accept(reports.step(s, Reports.healthy(4, s), false));
        }
        recorder.accept(reports.step(30, new double[] {1, Double.NaN, 1, 1}, false));
        assertTrue(written.await(10, TimeUnit.SECONDS));
        Path file = dir.resolve("incident-synthetic-r1-step30-2.json");
        assertTrue(Files.isRegularFile(file), "another name was taken: " + FlightRecorderTest.files(dir));
        assertEquals("keep me", Files.readString(victim));
        assertEquals("nonfinite", IncidentFile.read(file).trigger());

        Files.delete(file);
        Files.createSymbolicLink(file, victim);
        recorder.accept(reports.step(31, new double[] {1, Double.NaN, 1, 1}, false)); // an update of the same incident
        writer.close();
        assertEquals("keep me", Files.readString(victim));
        assertTrue(Files.isSymbolicLink(file));
        assertTrue(
                lines().stream().anyMatch(l -> l.contains("is no longer the file the recorder wrote")),
                lines().toString());
        assertEquals(1.0, errorCount());
    }

    /** The writer's thread held on its first file: the queue fills, the next incident is dropped and counted. */
    @Test
    void aFullQueueDropsTheIncidentAndCountsIt(@TempDir Path dir) throws Exception {
        AgentErrors errors = errors();
        GradGuardConfig config = config("incidents.dir=" + dir);
        IncidentWriter writer = new IncidentWriter(dir, errors, 1);
        writer.start();
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Reports reports = new Reports(2);
        double[] nan = {Double.NaN, 1};
        for (int m = 0; m < 3; m++) {
            FlightRecorder recorder = new FlightRecorder(
                    registry,
                    "m" + m,
                    config,
                    writer,
                    m > 0
                            ? null
                            : n -> {
                                held.countDown();
                                try {
                                    release.await(10, TimeUnit.SECONDS);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                            });
            recorder.accept(reports.step(1, nan, false));
            if (m == 0) {
                assertTrue(held.await(10, TimeUnit.SECONDS));
            }
        }
        assertEquals(1.0, errorCount(), "the third incident was dropped");
        release.countDown();
        writer.close();
        assertEquals(
                1.0,
                registry.find("gradguard.incidents")
                        .tags("model", "m1", "trigger", "nonfinite")
                        .counter()
                        .count());
        assertEquals(
                0.0,
                registry.find("gradguard.incidents")
                        .tags("model", "m2", "trigger", "nonfinite")
                        .counter()
                        .count());
        assertEquals(2, FlightRecorderTest.files(dir).size());
        assertEquals(
                1,
                lines().stream()
                        .filter(l -> l.contains("incident writes waiting; an incident or its update was" + " dropped"))
                        .count(),
                lines().toString());
    }

    /** A directory that works, then turns into a file: one line, counted, then nothing more is tried. */
    @Test
    void aDirectoryThatFailsAtWriteTimeSaysOneLine(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("incidents");
        AgentErrors errors = errors();
        GradGuardConfig config = config("incidents.dir=" + dir);
        IncidentWriter writer = IncidentWriter.open(config, errors);
        Reports reports = new Reports(2);
        CountDownLatch written = new CountDownLatch(1);
        new FlightRecorder(registry, "m0", config, writer, n -> written.countDown())
                .accept(reports.step(1, new double[] {Double.NaN, 1}, false));
        assertTrue(written.await(10, TimeUnit.SECONDS));
        for (Path f : FlightRecorderTest.files(dir)) {
            Files.delete(f);
        }
        Files.delete(dir);
        Files.writeString(dir, "not a directory");
        for (int m = 1; m <= 3; m++) {
            new FlightRecorder(registry, "m" + m, config, writer, null)
                    .accept(reports.step(1, new double[] {Double.NaN, 1}, false));
        }
        writer.close();
        assertEquals(
                1,
                lines().stream()
                        .filter(l -> l.startsWith("[gradguard] flight recorder: cannot write incident files in " + dir))
                        .count(),
                lines().toString());
        assertEquals(1, lines().size(), lines().toString());
        assertEquals(3.0, errorCount(), "every lost incident counted");
    }

    /** Later steps of one incident rewrite its file: the summary and the followers grow, the name stays. */
    @Test
    void laterStepsUpdateTheOneFile(@TempDir Path dir) throws Exception {
        GradGuardConfig config = config("incidents.dir=" + dir + ",incidents.steps=8");
        IncidentWriter writer = IncidentWriter.open(config, errors());
        FlightRecorder recorder = new FlightRecorder(registry, "synthetic", config, writer, null);
        Reports reports = new Reports(3);
        long s = 1;
        for (; s <= 40; s++) {
            recorder.accept(reports.step(s, Reports.healthy(3, s), false));
        }
        recorder.accept(reports.step(s++, new double[] {50, 1, 1}, true));
        Thread.sleep(200);
        Path file = FlightRecorderTest.files(dir).get(0);
        IncidentFile first = IncidentFile.read(file);
        assertEquals("open", first.summary().status());
        assertEquals(List.of(), first.followers());
        recorder.accept(reports.step(s++, new double[] {50, 60, 1}, true));
        for (int calm = 0; calm < FlightRecorder.CALM_STEPS; calm++, s++) {
            recorder.accept(reports.step(s, Reports.healthy(3, s), false));
        }
        writer.close();
        assertEquals(List.of(file), FlightRecorderTest.files(dir));
        IncidentFile last = IncidentFile.read(file);
        assertEquals(41, last.step());
        assertEquals("00Linear_weight", last.firstOffender().parameter());
        assertEquals(
                List.of("01Linear_weight"),
                last.followers().stream().map(IncidentFile.Offender::parameter).toList());
        assertEquals(42, last.followers().get(0).step());
        assertEquals("closed", last.summary().status());
        assertEquals(42 + FlightRecorder.CALM_STEPS, last.summary().closedAtStep());
        assertEquals(2L, last.summary().events().get("explosion"));
        assertEquals(8, last.steps().size(), "the ring as it was at the opening");
        assertEquals(41, last.steps().step()[7]);
    }

    /** A detector explosion with every parameter inside its band is not an incident. */
    @Test
    void aSpikeOfTheDetectorAloneIsNoIncident(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("incidents");
        GradGuardConfig config = config("incidents.dir=" + dir);
        IncidentWriter writer = IncidentWriter.open(config, errors());
        FlightRecorder recorder = new FlightRecorder(registry, "synthetic", config, writer, null);
        Reports reports = new Reports(3);
        for (long s = 1; s <= 200; s++) {
            recorder.accept(reports.step(s, Reports.healthy(3, s), s % 50 == 0));
        }
        writer.close();
        assertFalse(Files.exists(dir));
        assertEquals(
                0.0,
                registry.find("gradguard.incidents")
                        .tags("trigger", "explosion")
                        .counter()
                        .count());
    }

    @Test
    void theConfigurationIsListedWithoutSecrets() {
        GradGuardConfig config = GradGuardSchema.load(
                "policy.type=zscore,otlp.endpoint=http://collector:4318/v1/metrics,"
                        + "otlp.headers=X-Scope-OrgID=tenant-1",
                Map.of("gradguard.detector.spike_z", "5"),
                Map.of("GRADGUARD_OTLP_HEADERS_ENV", "OTLP_SECRET", "OTLP_SECRET", "Authorization=Bearer s3cret"));
        Map<String, String> listed = JobDescription.setKeys(config);
        assertEquals("zscore", listed.get("policy.type"));
        assertEquals("5.0", listed.get("detector.spike_z"));
        assertEquals("X-Scope-OrgID=(hidden)", listed.get("otlp.headers"));
        assertEquals("OTLP_SECRET", listed.get("otlp.headers_env"), "the variable's name, never its value");
        assertFalse(listed.toString().contains("tenant-1") || listed.toString().contains("s3cret"), listed.toString());
        assertFalse(listed.containsKey("port"), "only what was set: " + listed);
    }

    private GradGuardConfig config(String args) {
        return GradGuardSchema.load("summary=0,port=0," + args, Map.of(), Map.of());
    }

    private AgentErrors errors() {
        return new AgentErrors(registry, "r1");
    }

    private double errorCount() {
        return registry.find("gradguard.agent.errors")
                .tags("where", "incidents")
                .counter()
                .count();
    }

    private List<String> lines() {
        return console.toString(StandardCharsets.UTF_8)
                .lines()
                .filter(l -> !l.contains("incident: "))
                .toList();
    }
}
