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
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * A one-step DJL job for the start-up benchmark: builds a small MLP, runs one forward, backward and
 * {@code Trainer.step()}, and prints {@code first_step_ms=X}, the milliseconds from JVM start to the
 * end of that step. The clock is read with {@code System.nanoTime()} right after the step; JVM
 * start comes from the runtime MXBean, read only afterwards so that loading it is not counted.
 */
public final class FirstStepJob {

    private FirstStepJob() {}

    public static void main(String[] args) throws Exception {
        long stepEnd;
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("first-step")) {
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(16).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(0.01f))
                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(8, 4));
                NDArray x = data.randomNormal(new Shape(8, 4));
                try (GradientCollector gc = trainer.newGradientCollector()) {
                    NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
                    gc.backward(trainer.getLoss().evaluate(new NDList(x.sum(new int[] {1}, true)), new NDList(pred)));
                }
                trainer.step();
                stepEnd = System.nanoTime();
            }
        }
        double uptimeMs = ManagementFactory.getRuntimeMXBean().getUptime();
        long now = System.nanoTime();
        System.out.printf(Locale.ROOT, "first_step_ms=%.1f%n", uptimeMs - (now - stepEnd) / 1e6);
    }
}
