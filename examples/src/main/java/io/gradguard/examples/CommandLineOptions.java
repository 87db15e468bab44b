package io.gradguard.examples;

import java.nio.file.Path;
import java.util.List;
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

    @Option(
            names = "--model",
            paramLabel = "NAME",
            description = {
                "mlp|cnn|lstm|rnn|deep-mlp|wide-mlp (default: depends on scenario: explode-init -> deep-mlp;"
                        + " explode-rnn -> rnn; otherwise mlp).",
                "mlp: 784-256-128-10 ReLU (235,146 parameters); cnn: LeNet-like (61,706);"
                        + " lstm: LSTM(128) over 28 rows (82,186); rnn: ReLU RNN(128) (21,514);"
                        + " deep-mlp: 26 x Linear(64) + Linear(10), 54 arrays (154,890);"
                        + " wide-mlp: 784-4096-1024-10 (7,420,938)."
            })
    String model;

    @Option(
            names = "--scenario",
            paramLabel = "NAME",
            defaultValue = "healthy",
            description = {
                "healthy|explode-lr|explode-init|explode-rnn|nan-inject|lr-jump|corrupt-batches (default:"
                        + " ${DEFAULT-VALUE}).",
                "Start of training: explode-lr (rate 1.5), explode-init (deep-mlp, normal:0.2), explode-rnn"
                        + " (recurrent scale 3). Mid-training: nan-inject (NaN batch at step 20), lr-jump (the job's step"
                        + " schedule multiplies the rate by 60 at step 120), corrupt-batches (un-normalised x255 batches at"
                        + " steps 50,80,110,140,170-174,200,230,260,290)."
            })
    String scenario;

    @Option(
            names = "--no-fault",
            defaultValue = "false",
            description = {
                "Run the scenario's healthy twin: the same model, data, optimizer, rate and steps without its"
                        + " fault (explode-lr: rate of healthy; explode-init: xavier init; explode-rnn: recurrent scale 1;"
                        + " nan-inject, lr-jump, corrupt-batches: nothing injected) (default: ${DEFAULT-VALUE})."
            })
    boolean noFault;

    @Option(names = "--epochs", defaultValue = "2", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--lr",
            paramLabel = "RATE",
            description = "Learning rate (default: depends on scenario: explode-lr 1.5, explode-init 0.01, explode-rnn"
                    + " 0.01; otherwise 0.1 with sgd, 0.001 with adam).")
    Double learningRate;

    @Option(
            names = "--optimizer",
            paramLabel = "NAME",
            defaultValue = "sgd",
            description = "sgd|adam (default: ${DEFAULT-VALUE}).")
    String optimizer;

    @Option(names = "--momentum", defaultValue = "0", description = "SGD momentum (default: ${DEFAULT-VALUE}).")
    double momentum;

    @Option(
            names = "--init",
            paramLabel = "SPEC",
            description = "Weight init: xavier | he | normal:<sigma> | uniform:<bound> (biases are zero; default:"
                    + " depends on scenario: explode-init normal:0.2, explode-rnn normal:0.05, otherwise xavier).")
    String init;

    @Option(
            names = "--recurrent-scale",
            paramLabel = "FACTOR",
            description = "Multiply recurrent (h2h) weights by this after init (default: depends on scenario:"
                    + " explode-rnn 3.0, otherwise 1.0).")
    Double recurrentScale;

    @Option(names = "--seed", defaultValue = "42", description = "Random seed (default: ${DEFAULT-VALUE}).")
    int seed;

    @Option(
            names = "--data",
            paramLabel = "DIR|synthetic",
            description = "IDX directory or 'synthetic' (default: " + "/usr/share/datasets/fashion-mnist,"
                    + " synthetic if missing).")
    String data;

    @Option(
            names = "--device",
            paramLabel = "NAME",
            defaultValue = "cpu",
            description = "cpu|gpu|auto (default: ${DEFAULT-VALUE}).")
    String device;

    @Option(
            names = "--loop",
            paramLabel = "KIND",
            defaultValue = "easy",
            description = "easy (EasyTrain.fit) | manual (own loop) (default: ${DEFAULT-VALUE}).")
    String loop;

    @Option(
            names = "--max-steps",
            paramLabel = "N",
            defaultValue = "0",
            description = "Stop after N optimizer steps; 0 = no limit (default: ${DEFAULT-VALUE}).")
    int maxSteps;

    @Option(
            names = "--limit-train",
            paramLabel = "N",
            defaultValue = "0",
            description = "Use only the first N training examples; 0 = all (default: ${DEFAULT-VALUE}).")
    int limitTrain;

    @Option(
            names = "--limit-test",
            paramLabel = "N",
            defaultValue = "0",
            description = "Use only the first N test examples; 0 = all (default: ${DEFAULT-VALUE}).")
    int limitTest;

    @Option(
            names = "--nan-steps",
            paramLabel = "K[,A-B...]",
            split = ",",
            hideParamSyntax = true,
            description = "1-based optimizer steps whose batch gets one image of NaN pixels (default: nan-inject 20,"
                    + " otherwise none).")
    List<String> nanSteps;

    @Option(
            names = "--lr-jump",
            paramLabel = "STEP:FACTOR",
            description = "The job's own learning-rate schedule (a DJL Tracker) multiplies the rate by FACTOR from"
                    + " optimizer update STEP on (default: lr-jump 120:60, otherwise none).")
    String lrJump;

    @Option(
            names = "--corrupt-steps",
            paramLabel = "K[,A-B...]",
            split = ",",
            hideParamSyntax = true,
            description = "1-based optimizer steps whose batch arrives with its pixels multiplied by --corrupt-scale"
                    + " (default: corrupt-batches 50,80,110,140,170-174,200,230,260,290, otherwise none).")
    List<String> corruptSteps;

    @Option(
            names = "--corrupt-scale",
            paramLabel = "FACTOR",
            description = "Pixel factor of --corrupt-steps batches; 255 = the normalisation to [0, 1] skipped (default:"
                    + " 255).")
    Double corruptScale;

    @Option(
            names = "--divergence-bound",
            paramLabel = "LOSS",
            defaultValue = "1000",
            description = "A batch loss above this, or NaN/Inf, marks the run diverged; --nan-steps and --corrupt-steps"
                    + " batches are not judged"
                    + " (default: ${DEFAULT-VALUE}).")
    double divergenceBound;

    @Option(
            names = "--linger",
            defaultValue = "0",
            paramLabel = "SECONDS",
            description = "Keep the JVM up this long after training, e.g. so a metrics scraper reads the final"
                    + " values of a short job (default: ${DEFAULT-VALUE}).")
    int lingerSeconds;

    @Option(
            names = "--stop-on-divergence",
            defaultValue = "false",
            description = "Stop once diverged (default: ${DEFAULT-VALUE}: keep training, as a real job would).")
    boolean stopOnDivergence;

    @Option(names = "--summary", paramLabel = "FILE", description = "Write the JSON summary here (default: none).")
    Path summary;

    @Option(
            names = "--grad-norms",
            paramLabel = "FILE",
            description =
                    "Manual loop only: before each step append {\"step\":k,\"norms\":{name: L2}} (default: none).")
    Path gradNorms;

    @Option(
            names = "--hand-clip",
            paramLabel = "MAX_NORM",
            description = "Manual loop only: clip the global gradient norm to MAX_NORM the way a user writes it by"
                    + " hand (per-parameter norm().getFloat(), global norm on the host, muli); for the overhead"
                    + " benchmark (default: off).")
    Double handClip;

    @Option(
            names = "--djl-clip-grad",
            paramLabel = "VALUE",
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
            Options.OptimizerKind opt = OptionChecks.choice(Options.OptimizerKind.class, "--optimizer", optimizer);
            Options.Builder b = new Options.Builder(s, opt)
                    .epochs(OptionChecks.positive("--epochs", epochs))
                    .batchSize(OptionChecks.positive("--batch-size", batchSize))
                    .momentum(momentum)
                    .seed(seed)
                    .data(data)
                    .device(OptionChecks.choice(Options.DeviceChoice.class, "--device", device))
                    .loop(OptionChecks.choice(Options.LoopKind.class, "--loop", loop))
                    .limits(
                            OptionChecks.nonNegative("--max-steps", maxSteps),
                            OptionChecks.nonNegative("--limit-train", limitTrain),
                            OptionChecks.nonNegative("--limit-test", limitTest))
                    .divergence(divergenceBound, stopOnDivergence)
                    .outputs(summary, gradNorms)
                    .clipping(
                            OptionChecks.positiveOrOff("--hand-clip", handClip),
                            OptionChecks.positiveOrOff("--djl-clip-grad", djlClipGrad));
            if (model != null) {
                b.model(ModelKind.fromCli(model));
            }
            if (learningRate != null) {
                b.learningRate(learningRate);
            }
            if (init != null) {
                b.init(init);
            }
            if (recurrentScale != null) {
                b.recurrentScale(recurrentScale);
            }
            b.faults(s.defaultFaults().withOptions(nanSteps, lrJump, corruptSteps, corruptScale));
            if (!(momentum >= 0 && momentum < 1)) {
                throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
            }
            if (momentum != 0 && opt != Options.OptimizerKind.SGD) {
                throw new IllegalArgumentException("--momentum is SGD's; Adam keeps its own (drop --momentum)");
            }
            if (!(divergenceBound > 0)) {
                throw new IllegalArgumentException("--divergence-bound must be positive, got " + divergenceBound);
            }
            Options options = b.build();
            if (!(options.learningRate() > 0) || Double.isInfinite(options.learningRate())) {
                throw new IllegalArgumentException("--lr must be a positive number, got " + options.learningRate());
            }
            Initializers.parse(options.init()); // fail at parse time, not after loading data
            if (noFault) {
                refuseFaultOptions(commandLine, s);
                return options.healthyTwin();
            }
            return options;
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(commandLine, e.getMessage(), e);
        }
    }

    /** {@code --no-fault} with an option that sets a fault is a contradiction; say which option to drop. */
    private void refuseFaultOptions(CommandLine commandLine, Scenario s) {
        CommandLine.ParseResult parsed = commandLine.getParseResult();
        for (String option :
                new String[] {s.faultOption(), "--nan-steps", "--lr-jump", "--corrupt-steps", "--corrupt-scale"}) {
            if (option != null && parsed != null && parsed.hasMatchedOption(option)) {
                throw new IllegalArgumentException("--no-fault runs " + s.cliName() + "'s healthy twin, which " + option
                        + " would give a fault again; drop " + option);
            }
        }
    }
}
