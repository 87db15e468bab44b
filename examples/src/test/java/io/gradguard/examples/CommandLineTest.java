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
        int code = ReferenceTrainer.execute(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                args);
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
        assertEquals(List.of(), o.faults().nanSteps());
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
        assertEquals(
                List.of(20),
                CommandLineOptions.parse("--scenario", "nan-inject").faults().nanSteps());
        Options overridden = CommandLineOptions.parse(
                "--scenario", "nan-inject", "--nan-steps", "3,7", "--model", "cnn", "--lr", "0.5");
        assertEquals(List.of(3, 7), overridden.faults().nanSteps());
        assertEquals(ModelKind.CNN, overridden.model());
        assertEquals(0.5, overridden.learningRate());
    }

    @Test
    void badOptionsExitTwoWithOneLine() {
        for (String[] args : new String[][] {
            {"--model", "resnet"},
            {"--epochs", "zero"},
            {"--init", "normal:-1"},
            {"--loop", "fast"},
            {"--no-such-option"},
            {"--grad-norms", "x.jsonl"},
            {"--batch-size", "0"}
        }) {
            Outcome outcome = execute(args);
            assertEquals(2, outcome.code(), String.join(" ", args));
            assertEquals(1, outcome.err().lines().count(), outcome.err());
            assertTrue(outcome.err().startsWith("error: "), outcome.err());
            assertEquals("", outcome.out());
        }
        assertEquals(
                "error: unknown model 'resnet', expected one of mlp|cnn|lstm|rnn|deep-mlp|wide-mlp (see --help)",
                execute("--model", "resnet").err().strip());
        assertEquals(
                "error: --grad-norms needs --loop manual (see --help)",
                execute("--grad-norms", "x.jsonl").err().strip());
    }

    @Test
    void midTrainingScenariosChooseTheirFaultsAndAdamItsUsualRate() {
        Options jump = CommandLineOptions.parse("--scenario", "lr-jump");
        assertEquals(new Faults.LrJump(120, 60), jump.faults().lrJump());
        assertEquals(ModelKind.MLP, jump.model());
        assertEquals(0.1, jump.learningRate());
        assertEquals(
                0.001,
                CommandLineOptions.parse("--scenario", "lr-jump", "--optimizer", "adam")
                        .learningRate());
        assertEquals(0.001, CommandLineOptions.parse("--optimizer", "adam").learningRate());
        assertEquals(
                1.5,
                CommandLineOptions.parse("--scenario", "explode-lr", "--optimizer", "adam")
                        .learningRate());
        Options corrupt = CommandLineOptions.parse("--scenario", "corrupt-batches");
        assertEquals(
                List.of(50, 80, 110, 140, 170, 171, 172, 173, 174, 200, 230, 260, 290),
                corrupt.faults().corruptSteps());
        assertEquals(255.0, corrupt.faults().corruptScale());
        Options overridden = CommandLineOptions.parse(
                "--scenario",
                "corrupt-batches",
                "--corrupt-steps",
                "9,3-4,3",
                "--corrupt-scale",
                "10",
                "--lr-jump",
                "7:0.5");
        assertEquals(List.of(3, 4, 9), overridden.faults().corruptSteps());
        assertEquals(10.0, overridden.faults().corruptScale());
        assertEquals(new Faults.LrJump(7, 0.5), overridden.faults().lrJump());
        assertEquals(
                "lr x0.5 from step 7, pixels x10 at steps 3-4,9",
                overridden.faults().describe());
        assertTrue(CommandLineOptions.parse().faults().isNone());
    }

    /** Each twin differs from its scenario in exactly the components that carry the fault, whatever the optimizer. */
    @Test
    void everyTwinDiffersFromItsScenarioOnlyInItsFault() throws Exception {
        java.util.Map<Scenario, java.util.Set<String>> fault = new java.util.EnumMap<>(Scenario.class);
        fault.put(Scenario.HEALTHY, java.util.Set.of());
        fault.put(Scenario.EXPLODE_LR, java.util.Set.of("learningRate"));
        fault.put(Scenario.EXPLODE_INIT, java.util.Set.of("init"));
        fault.put(Scenario.EXPLODE_RNN, java.util.Set.of("recurrentScale"));
        fault.put(Scenario.NAN_INJECT, java.util.Set.of("faults"));
        fault.put(Scenario.LR_JUMP, java.util.Set.of("faults"));
        fault.put(Scenario.CORRUPT_BATCHES, java.util.Set.of("faults"));
        assertEquals(java.util.EnumSet.allOf(Scenario.class), fault.keySet());
        for (String[] variant : new String[][] {{}, {"--momentum", "0.9"}, {"--optimizer", "adam"}}) {
            for (Scenario s : Scenario.values()) {
                List<String> args = new java.util.ArrayList<>(List.of("--scenario", s.cliName(), "--max-steps", "300"));
                args.addAll(List.of(variant));
                Options scenario = CommandLineOptions.parse(args.toArray(String[]::new));
                args.add("--no-fault");
                Options twin = CommandLineOptions.parse(args.toArray(String[]::new));
                assertEquals(twin, scenario.healthyTwin(), "--no-fault is healthyTwin() for " + args);
                java.util.Set<String> differ = new java.util.TreeSet<>();
                for (java.lang.reflect.RecordComponent c : Options.class.getRecordComponents()) {
                    if (!java.util.Objects.equals(
                            c.getAccessor().invoke(scenario), c.getAccessor().invoke(twin))) {
                        differ.add(c.getName());
                    }
                }
                java.util.Set<String> expected = new java.util.TreeSet<>(fault.get(s));
                expected.add("noFault");
                assertEquals(expected, differ, String.join(" ", args));
                assertTrue(
                        twin.faults().isNone()
                                && twin.recurrentScale() == 1.0
                                && twin.init().equals("xavier") == (s != Scenario.EXPLODE_RNN),
                        String.join(" ", args));
            }
        }
        assertEquals(
                CommandLineOptions.parse("--scenario", "explode-init", "--no-fault"),
                Scenario.EXPLODE_INIT.healthyTwin());
        assertEquals(0.1, Scenario.EXPLODE_LR.healthyTwin().learningRate());
        assertEquals(ModelKind.DEEP_MLP, Scenario.EXPLODE_INIT.healthyTwin().model());
        assertEquals(ModelKind.RNN, Scenario.EXPLODE_RNN.healthyTwin().model());
        assertEquals("normal:0.05", Scenario.EXPLODE_RNN.healthyTwin().init());
    }

    @Test
    void badFaultOptionsExitTwoWithOneLine() {
        String[][] cases = {
            {"--lr-jump", "120"},
            {"error: --lr-jump takes STEP:FACTOR (e.g. 120:60), got '120' (see --help)"},
            {"--lr-jump", "x:60"},
            {"error: --lr-jump takes STEP:FACTOR (e.g. 120:60), got 'x:60' (see --help)"},
            {"--lr-jump", "0:60"},
            {"error: --lr-jump step must be positive, got 0 (see --help)"},
            {"--lr-jump", "5:-2"},
            {"error: --lr-jump factor must be a positive number, got -2.0 (see --help)"},
            {"--corrupt-steps", "5,x"},
            {
                "error: --corrupt-steps takes steps K or ranges A-B separated by commas"
                        + " (e.g. 50,90,130-134), got 'x' (see --help)"
            },
            {"--corrupt-steps", "9-3"},
            {"error: --corrupt-steps: range 9-3 must run forwards and hold fewer than" + " 1000000 steps (see --help)"},
            {"--nan-steps", "0"},
            {"error: --nan-steps must be positive, got 0 (see --help)"},
            {"--corrupt-steps", "4", "--corrupt-scale", "0"},
            {"error: --corrupt-scale must be a positive number," + " got 0.0 (see --help)"},
            {"--optimizer", "adam", "--momentum", "0.9"},
            {"error: --momentum is SGD's; Adam keeps its own (drop" + " --momentum) (see --help)"},
            {"--corrupt-scale", "10"},
            {"error: --corrupt-scale needs --corrupt-steps (or --scenario corrupt-batches)" + " (see --help)"},
            {"--scenario", "explode-lr", "--lr", "2", "--no-fault"},
            {
                "error: --no-fault runs explode-lr's healthy"
                        + " twin, which --lr would give a fault again; drop --lr (see --help)"
            },
            {"--scenario", "lr-jump", "--lr-jump", "5:2", "--no-fault"},
            {
                "error: --no-fault runs lr-jump's healthy"
                        + " twin, which --lr-jump would give a fault again; drop --lr-jump (see --help)"
            },
        };
        for (int i = 0; i < cases.length; i += 2) {
            Outcome outcome = execute(cases[i]);
            assertEquals(2, outcome.code(), String.join(" ", cases[i]));
            assertEquals(cases[i + 1][0], outcome.err().strip());
            assertEquals("", outcome.out());
        }
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        Outcome help = execute("--help");
        assertEquals(0, help.code());
        for (String option : new String[] {
            "--model",
            "--scenario",
            "--epochs",
            "--batch-size",
            "--lr",
            "--optimizer",
            "--init",
            "--seed",
            "--data",
            "--device",
            "--loop",
            "--summary",
            "--max-steps",
            "--limit-train",
            "--limit-test",
            "--momentum",
            "--grad-norms",
            "--nan-steps",
            "--stop-on-divergence",
            "--divergence-bound",
            "--recurrent-scale",
            "--no-fault",
            "--lr-jump",
            "--corrupt-steps",
            "--corrupt-scale"
        }) {
            assertTrue(help.out().contains(option), option);
        }
        assertTrue(help.out().contains("Batch size (default: 64)"), help.out());
        assertTrue(help.out().contains("7,420,938"), help.out());
        // The help states the scenario defaults in words; they must be the ones the scenarios use.
        String flat = help.out().replaceAll("\\s+", " ").replaceAll(", (\\d)", ",$1"); // wrapped lists
        Faults corrupt = Scenario.CORRUPT_BATCHES.defaultFaults();
        assertTrue(
                flat.contains("corrupt-batches " + Faults.ranges(corrupt.corruptSteps()) + ", otherwise none"), flat);
        assertTrue(
                flat.contains("x" + (int) corrupt.corruptScale() + " batches at steps "
                        + Faults.ranges(corrupt.corruptSteps())),
                flat);
        assertTrue(flat.contains("lr-jump " + Scenario.LR_JUMP.defaultFaults().lrJump() + ", otherwise none"), flat);
        assertTrue(
                flat.contains("multiplies the rate by "
                        + (int) Scenario.LR_JUMP.defaultFaults().lrJump().factor() + " at step "
                        + Scenario.LR_JUMP.defaultFaults().lrJump().step()),
                flat);
    }

    @Test
    void corruptDataExitsTwoWithOneLineAndNoStackTrace(@TempDir Path dir) throws Exception {
        for (String name : new String[] {
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
        }) {
            Files.write(dir.resolve(name), new byte[] {0, 0, 8, 1, 0, 0});
        }
        Outcome outcome = execute("--data", dir.toString(), "--max-steps", "1");
        assertEquals(2, outcome.code());
        assertEquals(
                "error: " + dir.toAbsolutePath().normalize().resolve("train-images-idx3-ubyte")
                        + ": bad magic number 0x00000801 (expected 0x00000803, an IDX file of unsigned bytes with 3 dimensions)",
                outcome.err().strip());
    }

    @Test
    void missingDataDirectoryExitsTwo(@TempDir Path dir) {
        Outcome outcome = execute("--data", dir.toString());
        assertEquals(2, outcome.code());
        assertEquals(
                "error: " + dir + ": no Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz] ...)",
                outcome.err().strip());
    }
}
