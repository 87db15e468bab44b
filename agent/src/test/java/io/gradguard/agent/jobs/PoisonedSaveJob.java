package io.gradguard.agent.jobs;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Trains a few steps and checkpoints with {@code Model.save}, then its weights go NaN (as after a
 * divergence the agent was not allowed to stop) and it checkpoints again to the same place.
 * Prints the checkpoint's SHA-256 after each save.
 *
 * <p>Arguments: the checkpoint folder.
 */
public final class PoisonedSaveJob {

    private PoisonedSaveJob() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Engine.getInstance().setRandomSeed(5);
        try (Model model = Model.newInstance("ckpt")) {
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(8).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(0.01f))
                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(16, 4));
                NDArray x = data.randomNormal(new Shape(16, 4));
                NDArray y = x.sum(new int[] {1}, true);
                for (int s = 0; s < 5; s++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        gc.backward(trainer.getLoss()
                                .evaluate(
                                        new NDList(y),
                                        new NDList(
                                                trainer.forward(new NDList(x)).singletonOrThrow())));
                    }
                    trainer.step();
                }
                model.save(dir, "ckpt");
                System.out.println("checkpoint 1 " + digest(dir));
                model.getBlock().getParameters().get(0).getValue().getArray().set(new NDIndex("0, 0"), Float.NaN);
                model.save(dir, "ckpt");
                System.out.println("checkpoint 2 " + digest(dir));
            }
        }
    }

    private static String digest(Path dir) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".params"))
                    .sorted()
                    .toList()) {
                sha.update(Files.readAllBytes(f));
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
