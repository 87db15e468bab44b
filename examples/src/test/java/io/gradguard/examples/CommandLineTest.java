package io.gradguard.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommandLineTest {

    record Outcome(int code, String out, String err) {}

    static Outcome execute(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = ReferenceTrainer.execute(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Outcome(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void defaultsAreTheDocumentedOnes() {
        Options o = CommandLineOptions.parse();
        assertEquals(ModelKind.MLP, o.model());
        assertEquals(Scenario.HEALTHY, o.scenario());
        assertEquals(2, o.epochs());
        assertEquals(64, o.batchSize());
        assertEquals(0.1, o.learningRate());
        assertEquals(Options.OptimizerKind.SGD, o.optimizer());
        assertEquals(0.0, o.momentum());
        assertEquals("xavier", o.init());
        assertEquals(42, o.seed());
        assertEquals(null, o.data());
        assertEquals(Options.DeviceChoice.CPU, o.device());
        assertEquals(Options.LoopKind.EASY, o.loop());
        assertEquals(0, o.maxSteps());
        assertEquals(List.of(), o.nanSteps());
        assertEquals(1000.0, o.divergenceBound());
        assertFalse(o.stopOnDivergence());
    }

    @Test
    void scenarioChoosesModelRateInitAndPoisonedSteps() {
        Options init = CommandLineOptions.parse("--scenario", "explode-init");
        assertEquals(ModelKind.DEEP_MLP, init.model());
        assertEquals("normal:0.2", init.init());
        assertEquals(0.01, init.learningRate());
        Options rnn = CommandLineOptions.parse("--scenario", "explode-rnn");
        assertEquals(ModelKind.RNN, rnn.model());
        assertEquals(3.0, rnn.recurrentScale());
        assertEquals(1.5, CommandLineOptions.parse("--scenario", "explode-lr").learningRate());
        assertEquals(List.of(20), CommandLineOptions.parse("--scenario", "nan-inject").nanSteps());
        Options overridden = CommandLineOptions.parse("--scenario", "nan-inject", "--nan-steps", "3,7", "--model", "cnn",
                "--lr", "0.5");
        assertEquals(List.of(3, 7), overridden.nanSteps());
        assertEquals(ModelKind.CNN, overridden.model());
        assertEquals(0.5, overridden.learningRate());
    }

    @Test
    void badOptionsExitTwoWithOneLine() {
        for (String[] args : new String[][] {
            {"--model", "resnet"}, {"--epochs", "zero"}, {"--init", "normal:-1"}, {"--loop", "fast"},
            {"--no-such-option"}, {"--grad-norms", "x.jsonl"}, {"--batch-size", "0"}}) {
            Outcome outcome = execute(args);
            assertEquals(2, outcome.code(), String.join(" ", args));
            assertEquals(1, outcome.err().lines().count(), outcome.err());
            assertTrue(outcome.err().startsWith("error: "), outcome.err());
            assertEquals("", outcome.out());
        }
        assertEquals("error: unknown model 'resnet', expected one of mlp|cnn|lstm|rnn|deep-mlp|wide-mlp (see --help)",
                execute("--model", "resnet").err().strip());
        assertEquals("error: --grad-norms needs --loop manual (see --help)",
                execute("--grad-norms", "x.jsonl").err().strip());
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        Outcome help = execute("--help");
        assertEquals(0, help.code());
        for (String option : new String[] {"--model", "--scenario", "--epochs", "--batch-size", "--lr", "--optimizer",
                "--init", "--seed", "--data", "--device", "--loop", "--summary", "--max-steps", "--limit-train",
                "--limit-test", "--momentum", "--grad-norms", "--nan-steps", "--stop-on-divergence",
                "--divergence-bound", "--recurrent-scale"}) {
            assertTrue(help.out().contains(option), option);
        }
        assertTrue(help.out().contains("Batch size (default: 64)"), help.out());
        assertTrue(help.out().contains("7,420,938"), help.out());
    }

    @Test
    void corruptDataExitsTwoWithOneLineAndNoStackTrace(@TempDir Path dir) throws Exception {
        for (String name : new String[] {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte"}) {
            Files.write(dir.resolve(name), new byte[] {0, 0, 8, 1, 0, 0});
        }
        Outcome outcome = execute("--data", dir.toString(), "--max-steps", "1");
        assertEquals(2, outcome.code());
        assertEquals("error: " + dir.toAbsolutePath().normalize().resolve("train-images-idx3-ubyte")
                + ": bad magic number 0x00000801 (expected 0x00000803, an IDX file of unsigned bytes with 3 dimensions)",
                outcome.err().strip());
    }

    @Test
    void missingDataDirectoryExitsTwo(@TempDir Path dir) {
        Outcome outcome = execute("--data", dir.toString());
        assertEquals(2, outcome.code());
        assertEquals("error: " + dir + ": no Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz] ...)",
                outcome.err().strip());
    }
}
