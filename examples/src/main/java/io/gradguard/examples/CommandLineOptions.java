package io.gradguard.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The picocli surface of the reference trainer; {@link #toOptions()} resolves scenario defaults. */
@Command(
        name = "reference-trainer",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        usageHelpWidth = 110,
        description = {
            "DJL reference trainer on Fashion-MNIST: healthy and deliberately exploding training jobs.",
            "Exit codes: 0 done (diverged or not), 2 bad option or bad data, 1 unexpected failure."
        })
final class CommandLineOptions {

    @Option(names = "--model", paramLabel = "NAME",
            description = {"mlp|cnn|lstm|rnn|deep-mlp|wide-mlp (default: depends on scenario: healthy, explode-lr,"
                    + " nan-inject -> mlp; explode-init -> deep-mlp; explode-rnn -> rnn).",
                    "mlp: 784-256-128-10 ReLU (235,146 parameters); cnn: LeNet-like (61,706);"
                    + " lstm: LSTM(128) over 28 rows (82,186); rnn: ReLU RNN(128) (21,514);"
                    + " deep-mlp: 26 x Linear(64) + Linear(10), 54 arrays (154,890);"
                    + " wide-mlp: 784-4096-1024-10 (7,420,938)."})
    String model;

    @Option(names = "--scenario", paramLabel = "NAME", defaultValue = "healthy",
            description = "healthy|explode-lr|explode-init|explode-rnn|nan-inject (default: ${DEFAULT-VALUE}).")
    String scenario;

    @Option(names = "--epochs", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--lr", paramLabel = "RATE",
            description = "Learning rate (default: depends on scenario: healthy 0.1, explode-lr 1.5,"
                    + " explode-init 0.01, explode-rnn 0.01, nan-inject 0.1).")
    Double learningRate;

    @Option(names = "--optimizer", paramLabel = "NAME", defaultValue = "sgd",
            description = "sgd|adam (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--momentum", defaultValue = "0", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(names = "--init", paramLabel = "SPEC",
            description = "Weight init: xavier | he | normal:<sigma> | uniform:<bound> (biases are zero; default:"
                    + " depends on scenario: explode-init normal:0.2, explode-rnn normal:0.05, otherwise xavier).")
    String init;

    @Option(names = "--recurrent-scale", paramLabel = "FACTOR",
            description = "Multiply recurrent (h2h) weights by this after init (default: depends on scenario:"
                    + " explode-rnn 3.0, otherwise 1.0).")
    Double recurrentScale;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    int seed;

    @Option(names = "--data", paramLabel = "DIR|synthetic",
            description = "IDX directory or 'synthetic' (default: " + "/usr/share/datasets/fashion-mnist,"
                    + " synthetic if missing).")
    String data;

    @Option(names = "--device", paramLabel = "NAME", defaultValue = "cpu",
            description = "cpu|gpu|auto (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(names = "--loop", paramLabel = "KIND", defaultValue = "easy",
            description = "easy (EasyTrain.fit) | manual (own loop) (default: ${DEFAULT-VALUE}).")
    String loop;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "0",
            description = "Stop after N optimizer steps; 0 = no limit (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(names = "--limit-train", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training examples; 0 = all (default: ${DEFAULT-VALUE}).")
    int limitTrain;

    @Option(names = "--limit-test", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N test examples; 0 = all (default: ${DEFAULT-VALUE}).")
    int limitTest;

    @Option(names = "--nan-steps", paramLabel = "K[,K...]", split = ",",
            description = "1-based optimizer steps whose batch gets NaN pixels (default: nan-inject 20, otherwise"
                    + " none).")
    List<Integer> nanSteps;

    @Option(names = "--divergence-bound", paramLabel = "LOSS", defaultValue = "1000",
            description = "A batch loss above this, or NaN/Inf, marks the run diverged; --nan-steps batches are not judged"
                    + " (default: ${DEFAULT-VALUE}).")
    double divergenceBound;

    @Option(names = "--linger", defaultValue = "0", paramLabel = "SECONDS",
            description = "Keep the JVM up this long after training, e.g. so a metrics scraper reads the final"
                    + " values of a short job (default: ${DEFAULT-VALUE}).")
    int lingerSeconds;

    @Option(names = "--stop-on-divergence", defaultValue = "false",
            description = "Stop once diverged (default: ${DEFAULT-VALUE}: keep training, as a real job would).")
    boolean stopOnDivergence;

    @Option(names = "--summary", paramLabel = "FILE", description = "Write the JSON summary here (default: none).")
    Path summary;

    @Option(names = "--grad-norms", paramLabel = "FILE",
            description = "Manual loop only: before each step append {\"step\":k,\"norms\":{name: L2}} (default: none).")
    Path gradNorms;

    @Option(names = "--hand-clip", paramLabel = "MAX_NORM",
            description = "Manual loop only: clip the global gradient norm to MAX_NORM the way a user writes it by"
                    + " hand (per-parameter norm().getFloat(), global norm on the host, muli); for the overhead"
                    + " benchmark (default: off).")
    Double handClip;

    @Option(names = "--djl-clip-grad", paramLabel = "VALUE",
            description = "DJL's own optClipGrad(VALUE) on the SGD/Adam builder (default: off).")
    Double djlClipGrad;

    /** Parses {@code args} into resolved options; bad input throws {@link CommandLine.ParameterException}. */
    static Options parse(String... args) {
        CommandLineOptions cli = new CommandLineOptions();
        CommandLine commandLine = new CommandLine(cli);
        commandLine.parseArgs(args);
        return cli.toOptions(commandLine);
    }

    Options toOptions(CommandLine commandLine) {
        try {
            Scenario s = Scenario.fromCli(scenario);
            ModelKind m = model == null ? s.defaultModel() : ModelKind.fromCli(model);
            double lr = learningRate == null ? s.defaultLearningRate() : learningRate;
            String initSpec = init == null ? s.defaultInit() : init;
            Initializers.parse(initSpec); // fail at parse time, not after loading data
            positive("--epochs", epochs);
            positive("--batch-size", batchSize);
            nonNegative("--max-steps", maxSteps);
            nonNegative("--limit-train", limitTrain);
            nonNegative("--limit-test", limitTest);
            if (!(lr > 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
            }
            if (!(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
            }
            if (!(divergenceBound > 0)) {
                throw new IllegalArgumentException("--divergence-bound must be positive, got " + divergenceBound);
            }
            List<Integer> poison = nanSteps == null ? s.defaultNanSteps() : new ArrayList<>(nanSteps);
            for (int k : poison) {
                positive("--nan-steps", k);
            }
            double scale = recurrentScale == null ? s.recurrentWeightScale() : recurrentScale;
            if (handClip != null && !(handClip > 0 && !handClip.isInfinite())) {
                throw new IllegalArgumentException("--hand-clip must be a positive number, got " + handClip);
            }
            if (djlClipGrad != null && !(djlClipGrad > 0 && !djlClipGrad.isInfinite())) {
                throw new IllegalArgumentException("--djl-clip-grad must be a positive number, got " + djlClipGrad);
            }
            return new Options(m, s, epochs, batchSize, lr,
                    choice(Options.OptimizerKind.class, "--optimizer", optimizer), momentum, initSpec, seed, data,
                    choice(Options.DeviceChoice.class, "--device", device), choice(Options.LoopKind.class, "--loop", loop),
                    maxSteps, limitTrain, limitTest, poison, divergenceBound, stopOnDivergence, summary, gradNorms,
                    scale, handClip == null ? Double.NaN : handClip, djlClipGrad == null ? Double.NaN : djlClipGrad);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, e.getMessage(), e);
        }
    }

    private static void positive(String option, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + value);
        }
    }

    private static void nonNegative(String option, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(option + " must be >= 0, got " + value);
        }
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String option, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(value)) {
                return e;
            }
        }
        StringBuilder names = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            names.append(names.length() == 0 ? "" : "|").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(option + ": unknown value '" + value + "', expected one of " + names);
    }
}
