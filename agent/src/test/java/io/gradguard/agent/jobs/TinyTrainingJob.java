package io.gradguard.agent.jobs;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * A small, seeded DJL job for agent tests that must not depend on the reference trainer: a
 * two-layer MLP on a fixed synthetic regression task, trained by hand with {@code Trainer.step()}.
 * Prints {@code weights_sha256=<hex>} at the end, and with {@code -Dtiny.resultFile=PATH} also writes
 * it to that file (the job's own result, which must survive whatever the agent is put through).
 * Arguments: steps, learning rate, [nan-step].
 */
public final class TinyTrainingJob {

    private TinyTrainingJob() {}

    public static void main(String[] args) throws Exception {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        float lr = args.length > 1 ? Float.parseFloat(args[1]) : 0.05f;
        int nanStep = args.length > 2 ? Integer.parseInt(args[2]) : -1;
        long sleepMs = Long.getLong("tiny.sleepMs", 0);
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("tiny")) {
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(16).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(lr))
                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(32, 8));
                NDArray x = data.randomNormal(new Shape(32, 8));
                NDArray y = x.sum(new int[] {1}, true).mul(0.5f);
                for (int s = 1; s <= steps; s++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray in = s == nanStep ? x.mul(Float.NaN) : x;
                        NDArray pred = trainer.forward(new NDList(in)).singletonOrThrow();
                        NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                        gc.backward(loss);
                    }
                    trainer.step();
                    if (sleepMs > 0) {
                        Thread.sleep(sleepMs);
                    }
                }
                String result = "weights_sha256=" + digest(model);
                String resultFile = System.getProperty("tiny.resultFile");
                if (resultFile != null) {
                    java.nio.file.Files.writeString(java.nio.file.Path.of(resultFile), result + "\n");
                }
                System.out.println(result);
            }
        }
    }

    static String digest(Model model) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            sha.update(p.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            float[] v = p.getValue().getArray().toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(v.length * 4);
            b.asFloatBuffer().put(v);
            sha.update(b.array());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
