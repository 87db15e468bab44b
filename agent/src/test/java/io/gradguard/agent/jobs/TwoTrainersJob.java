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
import java.util.concurrent.CountDownLatch;

/**
 * Two models trained in one JVM, as users do: one after the other, or at the same time on two
 * threads (PyTorch allows one gradient collector at a time, so forward and backward take a shared
 * lock; the steps do not). Model {@code alpha}'s targets are 1000x larger, so the two losses
 * differ by orders of magnitude. {@code alpha} calls backward twice per step (gradient
 * accumulation over two half-batches). {@code beta} makes its collector on its training thread
 * and runs forward and backward on a worker thread, as DJL's {@code EasyTrain} does when the
 * trainer has an executor. Each prints its own figures for the test to compare.
 *
 * <p>Arguments: {@code sequential|concurrent STEPS LINGER_MS}.
 */
public final class TwoTrainersJob {

    private static final Object COLLECTING = new Object();

    /** Where {@code beta}'s forward and backward run. */
    private static final java.util.concurrent.ExecutorService WORKER =
            java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "beta-worker");
                t.setDaemon(true);
                return t;
            });

    private TwoTrainersJob() {}

    public static void main(String[] args) throws Exception {
        boolean concurrent = args[0].equals("concurrent");
        int steps = Integer.parseInt(args[1]);
        long lingerMs = Long.parseLong(args[2]);
        Engine.getInstance().setRandomSeed(3);
        if (concurrent) {
            CountDownLatch both = new CountDownLatch(2);
            Thread a = new Thread(() -> train("alpha", 1000f, 2, false, steps, both), "train-alpha");
            Thread b = new Thread(() -> train("beta", 1f, 1, true, steps + 7, both), "train-beta");
            a.start();
            b.start();
            a.join();
            b.join();
        } else {
            train("alpha", 1000f, 2, false, steps, null);
            train("beta", 1f, 1, true, steps + 7, null);
        }
        System.out.println("job done");
        Thread.sleep(lingerMs);
    }

    private static void train(
            String name, float targetScale, int backwardsPerStep, boolean onWorker, int steps, CountDownLatch start) {
        try (Model model = Model.newInstance(name)) {
            model.setBlock(new SequentialBlock()
                    .add(Linear.builder().setUnits(8).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(1).build()));
            DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(1e-6f))
                            .build());
            try (Trainer trainer = model.newTrainer(config);
                    NDManager data = model.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(16, 4));
                NDArray x = data.randomNormal(new Shape(16, 4));
                NDArray y = x.sum(new int[] {1}, true).mul(targetScale);
                if (start != null) {
                    start.countDown();
                    start.await(); // both trainers exist before either steps
                }
                double lastStepLoss = Double.NaN;
                for (int s = 1; s <= steps; s++) {
                    double sum = 0;
                    for (int k = 0; k < backwardsPerStep; k++) {
                        synchronized (COLLECTING) {
                            try (NDManager batch = data.newSubManager();
                                    GradientCollector gc = trainer.newGradientCollector()) {
                                NDArray part =
                                        x.get((k * 16 / backwardsPerStep) + ":" + ((k + 1) * 16 / backwardsPerStep));
                                NDArray target =
                                        y.get((k * 16 / backwardsPerStep) + ":" + ((k + 1) * 16 / backwardsPerStep));
                                part.attach(batch);
                                target.attach(batch);
                                java.util.concurrent.Callable<Float> forwardBackward = () -> {
                                    NDArray pred =
                                            trainer.forward(new NDList(part)).singletonOrThrow();
                                    NDArray loss = trainer.getLoss().evaluate(new NDList(target), new NDList(pred));
                                    float value = loss.getFloat();
                                    gc.backward(loss);
                                    return value;
                                };
                                sum += onWorker ? WORKER.submit(forwardBackward).get() : forwardBackward.call();
                            }
                        }
                    }
                    lastStepLoss = sum / backwardsPerStep;
                    trainer.step();
                    Thread.yield(); // let the other trainer interleave
                }
                System.out.println("model " + name + " steps=" + steps + " last_step_loss=" + lastStepLoss);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
