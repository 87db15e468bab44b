package io.gradguard.core.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.console.Console;
import io.gradguard.core.jobs.MlpJob;
import io.gradguard.core.step.StepReport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flight recorder on real DJL jobs (PyTorch engine): one parameter's gradient is made to
 * explode at a known step, and the incident file names it, holds the steps before it with the
 * job's own figures, and lists the parameters that followed; a NaN step gives a {@code nonfinite}
 * incident; a healthy run of thousands of steps gives none.
 */
class FlightRecorderTest {

    /** The parameter whose gradient explodes: the second layer's weight, in the middle of the net. */
    private static final String TARGET = "03Linear_weight";

    /**
     * At step 60 a loss term {@code -20 * sum(W)} on the second layer's weight adds -20 to every
     * element of its gradient and to nothing else's; the update it causes then makes every other
     * gradient explode at the next steps.
     */
    @Test
    void anExplosionInOneParameterNamesItAndRecordsTheStepsBeforeIt(@TempDir Path dir) throws IOException {
        int k = 16;
        int n = 60;
        try (MlpJob job = new MlpJob("incidents.steps=" + k + ",incidents.dir=" + dir, 11)) {
            for (int s = 1; s <= n + 120; s++) {
                job.step(s == n ? TARGET : null, -20f, false);
            }
            job.close();
            List<Path> files = files(dir);
            assertEquals(1, files.size(), "one file for the whole incident: " + files);
            IncidentFile incident = IncidentFile.read(files.get(0));
            assertEquals("explosion", incident.trigger());
            assertEquals(n, incident.step());
            assertNotNull(incident.firstOffender());
            assertEquals(TARGET, incident.firstOffender().parameter());
            assertEquals(n, incident.firstOffender().step());
            assertTrue(
                    incident.firstOffender().norm()
                            > 10 * incident.firstOffender().bandUpper(),
                    "far out of its band");
            assertCountedOnce(job, "explosion");

            IncidentFile.Steps steps = incident.steps();
            assertEquals(k, steps.size());
            for (int j = 0; j < k; j++) {
                long step = n - k + 1 + j;
                assertEquals(step, steps.step()[j]);
                Map<String, Double> own = job.ownNorms.get((int) step - 1);
                double squares = 0;
                for (IncidentFile.Parameter p : incident.parameters()) {
                    double mine = own.get(p.name());
                    assertEquals(mine, p.gradNorm()[j], mine * 1e-5, p.name() + " at step " + step);
                    squares += mine * mine;
                }
                assertEquals(
                        Math.sqrt(squares), steps.globalNorm()[j], Math.sqrt(squares) * 1e-5, "global norm at " + step);
                double loss = job.ownLoss.get((int) step - 1);
                assertEquals(loss, steps.loss()[j], Math.abs(loss) * 1e-6, "loss at " + step);
                assertEquals(job.reports.get((int) step - 1).detection().zScore(), steps.zScore()[j], 0.0);
                assertEquals("applied", steps.action()[j]);
                assertEquals(1.0, steps.clipCoefficient()[j], 0.0);
            }
            assertTrue(steps.explosion()[k - 1], "the trigger step is the detector's explosion");
            IncidentFile.Parameter target = incident.parameters().stream()
                    .filter(p -> p.name().equals(TARGET))
                    .findFirst()
                    .orElseThrow();
            assertTrue(target.outOfBand()[k - 1]);
            for (int j = 0; j < k - 1; j++) {
                assertFalse(target.outOfBand()[j], "in band before the spike, step " + steps.step()[j]);
            }

            // every other parameter followed, in order of the step at which it left its band
            List<IncidentFile.Offender> followers = incident.followers();
            Set<String> named = new HashSet<>();
            long previous = n;
            for (IncidentFile.Offender f : followers) {
                assertTrue(f.step() >= previous, "in order: " + followers);
                assertTrue(f.norm() > f.bandUpper(), f.toString());
                previous = f.step();
                named.add(f.parameter());
            }
            Set<String> others = new HashSet<>(MlpJob.PARAMETERS);
            others.remove(TARGET);
            assertEquals(others, named);
            assertTrue(followers.get(0).step() > n, "only the target left its band at the spike itself");
            assertEquals("closed", incident.summary().status(), "50 calm steps closed it");
            assertTrue(incident.summary().events().get("explosion") >= 1);
            assertEquals(incident.summary().closedAtStep(), incident.summary().lastStep());
            System.out.printf(
                    "first offender %s at step %d (norm %.4g, band up to %.4g); followers %s; closed at %d%n",
                    incident.firstOffender().parameter(),
                    n,
                    incident.firstOffender().norm(),
                    incident.firstOffender().bandUpper(),
                    followers.stream().map(f -> f.parameter() + "@" + f.step()).toList(),
                    incident.summary().closedAtStep());
        }
    }

    /** Three NaN batches in a row: one {@code nonfinite} incident, the streak inside it. */
    @Test
    void nanStepsOpenOneNonfiniteIncident(@TempDir Path dir) throws IOException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Console.redirect(new PrintStream(console, true, StandardCharsets.UTF_8));
        try (MlpJob job = new MlpJob("incidents.dir=" + dir, 5)) {
            for (int s = 1; s <= 80; s++) {
                StepReport r = job.step(null, 0f, s >= 40 && s <= 42);
                assertEquals(s >= 40 && s <= 42, r.skipped(), "step " + s);
            }
            job.close();
            List<Path> files = files(dir);
            assertEquals(1, files.size(), files.toString());
            IncidentFile incident = IncidentFile.read(files.get(0));
            assertEquals("nonfinite", incident.trigger());
            assertEquals(40, incident.step());
            assertEquals(40, incident.firstOffender().step());
            assertTrue(Double.isNaN(incident.firstOffender().norm()));
            assertTrue(
                    Double.isNaN(incident.steps().globalNorm()[incident.steps().size() - 1]));
            assertEquals("skipped", incident.steps().action()[incident.steps().size() - 1]);
            assertEquals(
                    "nonfinite", incident.steps().skipReason()[incident.steps().size() - 1]);
            assertEquals(3L, incident.summary().events().get("nonfinite"));
            assertEquals(1L, incident.summary().events().get("skip_streak"));
            assertEquals(3L, incident.summary().skipped());
            assertEquals("open", incident.summary().status(), "38 calm steps: not closed yet");
            assertCountedOnce(job, "nonfinite");
            String said = console.toString(StandardCharsets.UTF_8);
            assertEquals(1, said.lines().filter(l -> l.contains("incident:")).count(), said);
            assertTrue(
                    said.contains("incident: recorded step 40 (nonfinite): first offender ")
                            && said.contains(files.get(0).toString()),
                    said);
        } finally {
            Console.redirect(null);
        }
    }

    /**
     * 3,000 healthy steps on random mini-batches: no incident, not even the directory. A z-score
     * spike of the detector alone, with every parameter inside its band, is not one.
     */
    @Test
    void aHealthyRunOfThousandsOfStepsOpensNone(@TempDir Path dir) throws IOException {
        Path incidents = dir.resolve("incidents");
        try (MlpJob job = new MlpJob("incidents.dir=" + incidents, 3)) {
            int spikes = 0;
            for (int s = 1; s <= 3000; s++) {
                spikes += job.step().detection().explosion() ? 1 : 0;
            }
            job.close();
            assertFalse(Files.exists(incidents), "no incident, no directory");
            for (String t : Incident.TRIGGERS) {
                assertEquals(0.0, job.counter("gradguard.incidents", "trigger", t), t);
            }
            System.out.println("healthy run: 3000 steps, " + spikes + " detector explosions, no incident");
        }
    }

    @Test
    void incidentsDirOffRecordsNothing() {
        try (MlpJob job = new MlpJob("incidents.dir=off", 1)) {
            assertNull(job.writer);
            job.step();
            assertTrue(Double.isNaN(job.counter("gradguard.incidents", "trigger", "nonfinite")));
        }
    }

    private static void assertCountedOnce(MlpJob job, String trigger) {
        for (String t : Incident.TRIGGERS) {
            assertEquals(t.equals(trigger) ? 1.0 : 0.0, job.counter("gradguard.incidents", "trigger", t), t);
        }
    }

    static List<Path> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json"))
                    .sorted()
                    .toList();
        }
    }
}
