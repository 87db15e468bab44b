package io.gradguard.agent.jobs;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Arrays;

/**
 * A DJL job that trains for a fixed wall-clock time and reports its median step time, so a test can
 * compare the cost of one training step with and without load on the agent. A step is forward,
 * backward and {@code Trainer.step()} of an MLP (64 -> 256 -> 256 -> 1, batch 64): a few
 * milliseconds, long enough that timer and scheduler noise do not dominate.
 * Prints {@code training_started} after 50 warm-up steps (not counted), then at the end
 * {@code steps=N median_step_ms=X} and {@code weights_sha256=<hex>}; with {@code -Dtimed.stepsFile=PATH}
 * also writes one line per step, {@code <epoch ms at its end> <duration ns>}. Argument: seconds of
 * timed training.
 */
public final class TimedTrainingJob {

    private static final int WARMUP_STEPS = 50;

    private TimedTrainingJob() {}

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("timed")) {
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(256).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(256).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(0.01f))
                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(64, 64));
                NDArray x = data.randomNormal(new Shape(64, 64));
                NDArray y = x.sum(new int[] {1}, true).mul(0.1f);
                for (int s = 0; s < WARMUP_STEPS; s++) {
                    step(trainer, x, y);
                }
                System.out.println("training_started");
                long[] times = new long[1 << 17];
                long[] endedAtMillis = new long[times.length];
                int n = 0;
                long end = System.nanoTime() + (long) (seconds * 1e9);
                while (System.nanoTime() < end && n < times.length) {
                    long t0 = System.nanoTime();
                    step(trainer, x, y);
                    times[n] = System.nanoTime() - t0;
                    endedAtMillis[n++] = System.currentTimeMillis();
                }
                String stepsFile = System.getProperty("timed.stepsFile");
                if (stepsFile != null) {
                    // Wall-clock end of each step, so a test can sort steps by what it was doing then.
                    StringBuilder lines = new StringBuilder();
                    for (int i = 0; i < n; i++) {
                        lines.append(endedAtMillis[i])
                                .append(' ')
                                .append(times[i])
                                .append('\n');
                    }
                    java.nio.file.Files.writeString(java.nio.file.Path.of(stepsFile), lines);
                }
                long[] measured = Arrays.copyOf(times, n);
                Arrays.sort(measured);
                System.out.printf(java.util.Locale.ROOT, "steps=%d median_step_ms=%.4f%n", n, measured[n / 2] / 1e6);
                System.out.println("weights_sha256=" + TinyTrainingJob.digest(model));
            }
        }
    }

    private static void step(Trainer trainer, NDArray x, NDArray y) {
        // Every array a step creates lands in the inputs' manager: a per-step one, so a long run
        // does not grow, and the release costs the same in every run compared.
        try (NDManager perStep = x.getManager().newSubManager()) {
            x.tempAttach(perStep);
            y.tempAttach(perStep);
            forwardBackward(trainer, x, y);
        }
        trainer.step();
    }

    private static void forwardBackward(Trainer trainer, NDArray x, NDArray y) {
        try (GradientCollector gc = trainer.newGradientCollector()) {
            NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
            NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
            gc.backward(loss);
        }
    }
}
