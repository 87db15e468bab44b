package io.gradguard.agent.jobs;

import ai.djl.Model;
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
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;

/**
 * A learning-rate sweep as users write one: a model and a trainer per rate, each trained a few
 * steps and closed. Then it asks the garbage collector whether the closed trainers are gone, and
 * prints {@code trainers still reachable: K of N}. Arguments: trainers, steps each.
 */
public final class TrainerSweepJob {

    private TrainerSweepJob() {}

    public static void main(String[] args) throws Exception {
        int trainers = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        List<WeakReference<Trainer>> closed = new ArrayList<>();
        for (int t = 0; t < trainers; t++) {
            float lr = 0.01f * (t + 1);
            try (Model model = Model.newInstance("sweep-" + t)) {
                model.setBlock(new SequentialBlock()
                        .add(Linear.builder().setUnits(16).build())
                        .add(Activation::relu)
                        .add(Linear.builder().setUnits(3).build()));
                DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(Optimizer.sgd()
                                .setLearningRateTracker(Tracker.fixed(lr))
                                .build());
                try (Trainer trainer = model.newTrainer(config);
                        NDManager data = model.getNDManager().newSubManager()) {
                    trainer.initialize(new Shape(8, 4));
                    NDArray x = data.randomUniform(0, 1, new Shape(8, 4));
                    NDArray y = data.zeros(new Shape(8));
                    for (int s = 0; s < steps; s++) {
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
                            gc.backward(trainer.getLoss().evaluate(new NDList(y), new NDList(pred)));
                        }
                        trainer.step();
                    }
                    closed.add(new WeakReference<>(trainer));
                }
            }
        }
        long reachable = closed.size();
        for (int i = 0; i < 10 && reachable > 0; i++) {
            System.gc();
            Thread.sleep(50);
            reachable = closed.stream().filter(r -> r.get() != null).count();
        }
        System.out.println("trainers still reachable: " + reachable + " of " + closed.size());
        System.out.println("job done");
    }
}
