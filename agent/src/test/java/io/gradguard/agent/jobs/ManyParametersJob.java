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

/**
 * A DJL job with as many parameter arrays as asked, for measuring what the agent exports per
 * parameter: an MLP of {@code layers} hidden layers of width 8 (two arrays each, plus the output
 * layer's two), trained by hand until the JVM is stopped, one step every few milliseconds.
 * Prints {@code parameters=N} once the first step is done. Arguments: hidden layers.
 */
public final class ManyParametersJob {

    private ManyParametersJob() {}

    public static void main(String[] args) throws Exception {
        int layers = Integer.parseInt(args[0]);
        Engine.getInstance().setRandomSeed(42);
        SequentialBlock block = new SequentialBlock();
        for (int i = 0; i < layers; i++) {
            block.add(Linear.builder().setUnits(8).build()).add(Activation::relu);
        }
        block.add(Linear.builder().setUnits(1).build());
        try (Model model = Model.newInstance("many-parameters")) {
            model.setBlock(block);
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(1e-3f))
                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(8, 4));
                NDArray x = data.randomNormal(new Shape(8, 4));
                NDArray y = x.sum(new int[] {1}, true);
                for (long s = 1; ; s++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
                        gc.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(pred)));
                    }
                    trainer.step();
                    if (s == 1) {
                        System.out.println(
                                "parameters=" + model.getBlock().getParameters().size());
                    }
                    Thread.sleep(2);
                }
            }
        }
    }
}
