package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two trainers in one JVM, one after the other and at the same time on two threads: each gets its
 * own steps, its own loss (the mean of the losses passed to backward since its last step, one of
 * them accumulating two per step) and its own step-log records.
 */
class TwoTrainersIT {

    private static final Pattern JOB_LINE = Pattern.compile("model (\\w+) steps=(\\d+) last_step_loss=(\\S+)");

    @ParameterizedTest
    @ValueSource(strings = {"sequential", "concurrent"})
    void eachTrainerHasItsOwnLossStepsAndLogRecords(String mode) throws Exception {
        int port = ChildJvm.freePort();
        Path log = Files.createTempDirectory("gradguard-two").resolve("steps.jsonl");
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=" + port + ",summary=0,log=" + log,
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TwoTrainersJob",
                mode,
                "40",
                "60000"))) {
            job.awaitOutput("job done", 120);
            Map<String, Double> s = ChildJvm.scrapeUntil(
                    port, m -> ChildJvm.value(m, "gradguard_steps_total", "model=\"beta\"") >= 47, 30);
            Matcher m = JOB_LINE.matcher(job.output());
            int models = 0;
            while (m.find()) {
                models++;
                String model = m.group(1);
                int steps = Integer.parseInt(m.group(2));
                double ownLoss = Double.parseDouble(m.group(3));
                String label = "model=\"" + model + "\"";
                assertEquals(steps, ChildJvm.value(s, "gradguard_steps_total", label), model + " steps\n" + s);
                double agentLoss = ChildJvm.value(s, "gradguard_loss", label);
                assertEquals(ownLoss, agentLoss, Math.abs(ownLoss) * 1e-5, model + " loss");
                List<String> records = Files.readAllLines(log).stream()
                        .filter(l -> l.startsWith("{\"model\":\"" + model + "\""))
                        .toList();
                assertEquals(steps, records.size(), model + " records in the step log");
                assertTrue(
                        records.get(0).contains("\"step\":1,")
                                && !records.get(0).contains("\"loss\":null"),
                        "the first step's loss is recorded: " + records.get(0));
            }
            assertEquals(2, models, job.output());
            assertFalse(job.output().contains("contained a failure"), job.output());
            System.out.printf(
                    "[TwoTrainersIT] %s: alpha loss %.4g, beta loss %.4g%n",
                    mode,
                    ChildJvm.value(s, "gradguard_loss", "model=\"alpha\""),
                    ChildJvm.value(s, "gradguard_loss", "model=\"beta\""));
        }
    }
}
