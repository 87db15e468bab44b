package io.gradguard.examples;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.translate.TranslateException;
import ai.djl.util.Pair;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import picocli.CommandLine;

/**
 * The DJL reference trainer: the workload every gradguard claim is measured on. It knows nothing
 * of the agent; {@code java -jar gradguard-examples.jar --help} lists the options.
 */
public final class ReferenceTrainer {

    private ReferenceTrainer() {}

    /**
     * Command-line entry point; exits 0 when training finished (diverged or not), 2 on a bad option or
     * bad data, 1 on any other failure.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) {
        System.exit(execute(System.out, System.err, args));
    }

    /** Runs the CLI in-process and returns its exit code; errors are one line on {@code err}. */
    static int execute(PrintStream out, PrintStream err, String... args) {
        CommandLine commandLine = new CommandLine(new CommandLineOptions());
        Options options;
        try {
            CommandLine.ParseResult parsed = commandLine.parseArgs(args);
            if (commandLine.isUsageHelpRequested()) {
                commandLine.usage(out);
                return 0;
            }
            if (commandLine.isVersionHelpRequested()) {
                out.println("gradguard reference trainer");
                return 0;
            }
            options = ((CommandLineOptions) commandLine.getCommand())
                    .toOptions(parsed.commandSpec().commandLine());
        } catch (CommandLine.ParameterException e) {
            err.println("error: " + e.getMessage() + " (see --help)");
            return 2;
        }
        try {
            TrainingSummary summary = run(options, out);
            out.printf(
                    Locale.ROOT,
                    "done: %d steps, test accuracy %.4f, diverged %s%s, median step %.2f ms," + " weights sha256 %s%n",
                    summary.steps(),
                    summary.testAccuracy(),
                    summary.diverged(),
                    summary.diverged() ? " (step " + summary.divergenceStep() + ")" : "",
                    summary.medianStepMillis(),
                    summary.weightsSha256());
            linger(((CommandLineOptions) commandLine.getCommand()).lingerSeconds, out);
            return 0;
        } catch (IdxFormatException e) {
            err.println("error: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("error: " + e);
            return 1;
        }
    }

    private static void linger(int seconds, PrintStream out) {
        if (seconds <= 0) {
            return;
        }
        out.printf(Locale.ROOT, "lingering %d s (--linger)%n", seconds);
        out.flush();
        try {
            Thread.sleep(seconds * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Trains as {@code options} says, printing progress to stdout. */
    static TrainingSummary run(Options options) throws IdxFormatException, IOException {
        return run(options, System.out);
    }

    static TrainingSummary run(Options options, PrintStream out) throws IdxFormatException, IOException {
        return run(options, out, null);
    }

    /** As {@link #run(Options)}; the manual loop also calls {@code beforeStep} (tests use it as a stand-in agent). */
    static TrainingSummary run(Options options, PrintStream out, BeforeStep beforeStep)
            throws IdxFormatException, IOException {
        Engine engine = Engine.getInstance();
        engine.setRandomSeed(options.seed());
        Device device = switch (options.device()) {
            case CPU -> Device.cpu();
            case GPU -> Device.gpu();
            case AUTO -> engine.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        };
        try (NDManager dataManager = NDManager.newBaseManager(Device.cpu());
                Model model = Model.newInstance(options.model().cliName(), device)) {
            TrainingData data = TrainingData.load(options, dataManager, device);
            model.setBlock(Models.build(options.model()));
            RunLog log = new RunLog(options, data.batchesPerEpoch(options.batchSize()), out);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(optimizer(options))
                    .optInitializer(Initializers.parse(options.init()), Parameter.Type.WEIGHT)
                    .optDevices(new Device[] {device});
            if (options.loop() == Options.LoopKind.EASY) {
                config.addEvaluator(new ai.djl.training.evaluator.Accuracy())
                        .addTrainingListeners(EasyLoop.listeners(log, data.test()));
            }
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(Models.INPUT_SHAPE);
                ParameterList parameters = model.getBlock().getParameters();
                scaleRecurrentWeights(parameters, options.recurrentScale());
                long count = countParameters(parameters);
                out.printf(
                        Locale.ROOT,
                        "model %s: %,d parameters in %d arrays; scenario %s%s, %s loop, optimizer %s"
                                + " lr %s%s, init %s, seed %d, data %s (%d train / %d test), device %s; faults: %s%n",
                        options.model().cliName(),
                        count,
                        parameters.size(),
                        options.scenario().cliName(),
                        options.noFault() ? " (healthy twin)" : "",
                        options.loop().name().toLowerCase(Locale.ROOT),
                        options.optimizer().name().toLowerCase(Locale.ROOT),
                        options.learningRate(),
                        options.momentum() > 0 ? " momentum " + options.momentum() : "",
                        options.init(),
                        options.seed(),
                        data.source(),
                        data.trainSize(),
                        data.testSize(),
                        device,
                        options.faults().describe());
                train(trainer, data, options, log, beforeStep);
                var epochs = log.epochs();
                TrainingSummary summary = new TrainingSummary(
                        options.model().cliName(),
                        options.scenario().cliName(),
                        options.noFault(),
                        epochs,
                        epochs.isEmpty() ? 0 : epochs.get(epochs.size() - 1).testAccuracy(),
                        log.diverged(),
                        log.divergenceStep(),
                        log.steps(),
                        count,
                        WeightsDigest.sha256(parameters),
                        log.medianStepMillis());
                if (options.summary() != null) {
                    summary.write(options.summary());
                }
                return summary;
            }
        }
    }

    private static void train(Trainer trainer, TrainingData data, Options options, RunLog log, BeforeStep beforeStep)
            throws IOException {
        try {
            if (options.loop() == Options.LoopKind.EASY) {
                EasyLoop.run(trainer, data, options, log);
            } else if (!Double.isNaN(options.handClip())) {
                ManualLoop.run(trainer, data, options, log, new HandClip((float) options.handClip()));
            } else if (options.gradNorms() != null) {
                try (GradientNormLog norms = new GradientNormLog(options.gradNorms())) {
                    ManualLoop.run(trainer, data, options, log, norms);
                }
            } else {
                ManualLoop.run(trainer, data, options, log, beforeStep);
            }
        } catch (TranslateException e) {
            throw new IllegalStateException("batching failed", e);
        }
    }

    private static Optimizer optimizer(Options options) {
        // The job's own schedule, a Tracker as users write them: constant unless --lr-jump changes the rate.
        Tracker rate = StepSchedule.of(options.learningRate(), options.faults().lrJump());
        // DJL's builders take clipGrad < 0 as "off", which is their default.
        float clipGrad = Double.isNaN(options.djlClipGrad()) ? -1f : (float) options.djlClipGrad();
        return switch (options.optimizer()) {
            case SGD ->
                Optimizer.sgd()
                        .setLearningRateTracker(rate)
                        .optMomentum((float) options.momentum())
                        .optClipGrad(clipGrad)
                        .build();
            case ADAM ->
                Optimizer.adam()
                        .optLearningRateTracker(rate)
                        .optClipGrad(clipGrad)
                        .build();
        };
    }

    /** explode-rnn: larger recurrent weights make gradients grow through the 28 time steps. */
    private static void scaleRecurrentWeights(ParameterList parameters, double scale) {
        if (scale == 1.0) {
            return;
        }
        for (Pair<String, Parameter> entry : parameters) {
            if (entry.getKey().contains("h2h") && entry.getValue().getType() == Parameter.Type.WEIGHT) {
                entry.getValue().getArray().muli((float) scale);
            }
        }
    }

    private static long countParameters(ParameterList parameters) {
        long count = 0;
        for (Pair<String, Parameter> entry : parameters) {
            count += entry.getValue().getArray().getShape().size();
        }
        return count;
    }
}
