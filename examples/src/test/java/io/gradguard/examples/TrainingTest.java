package io.gradguard.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real training through the same entry point as the CLI; Fashion-MNIST is decoded once per JVM. */
class TrainingTest {

    private static Options.Builder quick(Scenario scenario, int maxSteps) {
        return Options.defaults(scenario).toBuilder().epochs(1).limits(maxSteps, 0, 500);
    }

    @Test
    void mlpReachesEightyPercentTestAccuracyInOneEpoch() throws Exception {
        assumeTrue(FashionMnist.isPresent(FashionMnist.DEBIAN_DIR), "needs the dataset-fashion-mnist package");
        TrainingSummary summary = ReferenceTrainer.run(
                Options.defaults(Scenario.HEALTHY).toBuilder().epochs(1).build());
        System.out.printf(
                "mlp 1 epoch: test accuracy %.4f, %d steps, median step %.2f ms%n",
                summary.testAccuracy(), summary.steps(), summary.medianStepMillis());
        assertEquals(938, summary.steps());
        assertEquals(235_146, summary.parameters());
        assertFalse(summary.diverged());
        assertTrue(summary.testAccuracy() >= 0.80, "test accuracy " + summary.testAccuracy());
    }

    @Test
    void cnnLossFalls() throws Exception {
        assertLossFalls(ModelKind.CNN, 61_706);
    }

    @Test
    void lstmLossFalls() throws Exception {
        assertLossFalls(ModelKind.LSTM, 82_186);
    }

    /** Two epochs of 100 steps over the first 6,400 images: the second epoch's mean loss is clearly lower. */
    private static void assertLossFalls(ModelKind model, long parameters) throws Exception {
        TrainingSummary summary = ReferenceTrainer.run(Options.defaults(Scenario.HEALTHY).toBuilder()
                .model(model)
                .epochs(2)
                .limits(0, 6_400, 1_000)
                .build());
        List<EpochResult> epochs = summary.epochs();
        System.out.printf(
                "%s: loss %.4f -> %.4f, test accuracy %.4f%n",
                model.cliName(), epochs.get(0).loss(), epochs.get(1).loss(), summary.testAccuracy());
        assertEquals(parameters, summary.parameters());
        assertEquals(200, summary.steps());
        assertTrue(epochs.get(1).loss() < 0.9 * epochs.get(0).loss(), epochs.toString());
        assertTrue(summary.testAccuracy() > 0.3, "test accuracy " + summary.testAccuracy());
    }

    @Test
    void explodingScenariosDivergeAtTheirStep() throws Exception {
        int[] expectedStep = {3, 3, 2, 21};
        Scenario[] scenarios = {Scenario.EXPLODE_LR, Scenario.EXPLODE_INIT, Scenario.EXPLODE_RNN, Scenario.NAN_INJECT};
        for (int i = 0; i < scenarios.length; i++) {
            TrainingSummary summary = ReferenceTrainer.run(
                    quick(scenarios[i], 100).stopOnDivergence(true).build());
            System.out.printf("%s diverged at step %d%n", scenarios[i].cliName(), summary.divergenceStep());
            assertTrue(summary.diverged(), scenarios[i].cliName());
            assertEquals(expectedStep[i], summary.divergenceStep(), scenarios[i].cliName());
            assertEquals(expectedStep[i], summary.steps(), "stops right after diverging: " + scenarios[i].cliName());
        }
    }

    @Test
    void healthyDoesNotDiverge() throws Exception {
        TrainingSummary summary = ReferenceTrainer.run(
                quick(Scenario.HEALTHY, 150).stopOnDivergence(true).build());
        assertFalse(summary.diverged());
        assertEquals(-1, summary.divergenceStep());
        assertEquals(150, summary.steps());
        assertTrue(Double.isFinite(summary.epochs().get(0).loss()));
    }

    @Test
    void divergedJobKeepsTrainingWithoutStopOption() throws Exception {
        TrainingSummary summary =
                ReferenceTrainer.run(quick(Scenario.NAN_INJECT, 25).build());
        assertTrue(summary.diverged());
        assertEquals(21, summary.divergenceStep(), "the first step on NaN weights, after the poisoned step 20");
        assertEquals(25, summary.steps());
        assertTrue(Double.isNaN(summary.epochs().get(0).loss()));
    }

    @Test
    void sameSeedGivesIdenticalWeightsInBothLoops() throws Exception {
        for (Options.LoopKind loop : Options.LoopKind.values()) {
            Options options = quick(Scenario.HEALTHY, 30).loop(loop).build();
            String first = ReferenceTrainer.run(options).weightsSha256();
            String second = ReferenceTrainer.run(options).weightsSha256();
            assertEquals(first, second, loop.name());
            assertEquals(64, first.length());
            String otherSeed = ReferenceTrainer.run(CommandLineOptions.parse(
                            "--seed",
                            "7",
                            "--epochs",
                            "1",
                            "--max-steps",
                            "30",
                            "--limit-test",
                            "500",
                            "--loop",
                            loop.name().toLowerCase()))
                    .weightsSha256();
            assertNotEquals(first, otherSeed, loop.name());
        }
    }

    @Test
    void manualLoopWritesGradientNormsAndSummary(@TempDir Path dir) throws Exception {
        Path norms = dir.resolve("norms.jsonl");
        Path summaryFile = dir.resolve("summary.json");
        int code = CommandLineTest.execute(
                        "--scenario",
                        "nan-inject",
                        "--loop",
                        "manual",
                        "--epochs",
                        "1",
                        "--max-steps",
                        "21",
                        "--limit-test",
                        "200",
                        "--grad-norms",
                        norms.toString(),
                        "--summary",
                        summaryFile.toString())
                .code();
        assertEquals(0, code);
        List<String> lines = Files.readAllLines(norms);
        assertEquals(21, lines.size());
        assertTrue(lines.get(0).startsWith("{\"step\":1,\"norms\":{\"01Linear_weight\":"), lines.get(0));
        assertEquals(6, lines.get(0).split(":").length - 3, lines.get(0)); // 6 parameters, 3 other colons
        assertFalse(lines.get(18).contains("NaN"), lines.get(18));
        assertTrue(lines.get(19).startsWith("{\"step\":20,") && lines.get(19).contains("\"NaN\""), lines.get(19));
        String json = Files.readString(summaryFile);
        assertTrue(
                json.startsWith(
                        "{\"model\":\"mlp\",\"scenario\":\"nan-inject\",\"epochs\":[{\"epoch\":1,\"loss\":\"NaN\""),
                json);
        assertTrue(json.contains("\"diverged\":true,\"divergence_step\":21,\"steps\":21,\"parameters\":235146,"), json);
    }
}
