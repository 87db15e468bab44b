package io.gradguard.agent.bench;

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
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.guard.StepEngine;
import io.gradguard.core.guard.StepOutcome;
import io.gradguard.core.guard.SummarySink;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The step engine's own time in one JVM, on the reference models' shapes (784-256-128-10 MLP, and
 * a 26 x 64 deep MLP): each step of a real DJL training loop times the engine's entry and exit
 * apart from DJL's own update, the loss read included, so that a profiler attached to this
 * process (async-profiler, JFR) sees the engine's frames and nothing of a launcher. A diagnosis
 * tool for where the agent's time goes; the job-level ratios come from {@link OverheadBenchmark}.
 *
 * <p>Arguments: {@code [mlp|deep-mlp] [steps] [agent args]}.
 */
public final class EngineStepCost {

    private EngineStepCost() {}

    public static void main(String[] args) {
        String model = args.length > 0 ? args[0] : "mlp";
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 3000;
        String agentArgs = args.length > 2 ? args[2] : "policy.type=none";
        Engine.getInstance().setRandomSeed(1);
        SequentialBlock block = new SequentialBlock();
        if (model.equals("deep-mlp")) {
            for (int i = 0; i < 26; i++) {
                block.add(Linear.builder().setUnits(64).build()).add(Activation::relu);
            }
        } else {
            block.add(Linear.builder().setUnits(256).build())
                    .add(Activation::relu)
                    .add(Linear.builder().setUnits(128).build())
                    .add(Activation::relu);
        }
        block.add(Linear.builder().setUnits(10).build());
        try (Model m = Model.newInstance(model)) {
            m.setBlock(block);
            DefaultTrainingConfig tc = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                    .optOptimizer(Optimizer.sgd()
                            .setLearningRateTracker(Tracker.fixed(0.01f))
                            .build());
            try (Trainer trainer = m.newTrainer(tc);
                    NDManager data = m.getNDManager().newSubManager()) {
                trainer.initialize(new Shape(64, 784));
                NDArray x = data.randomUniform(0, 1, new Shape(64, 784));
                NDArray y = data.randomInteger(0, 10, new Shape(64), ai.djl.ndarray.types.DataType.INT32);
                GradGuardConfig config = GradGuardSchema.load("summary=0," + agentArgs, Map.of(), Map.of());
                PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
                GradGuardMetrics metrics = new GradGuardMetrics(
                        registry, model, config.run(), config.parameters(), config.maxParameters());
                StepEngine engine = new StepEngine(
                        DjlTrainer.of(trainer),
                        model,
                        config,
                        Optional::empty,
                        List.of(metrics, new SummarySink(0)),
                        new AgentErrors(registry, config.run()));
                long[] agent = new long[steps];
                long[] update = new long[steps];
                long[] lossRead = new long[steps];
                long[] probe = new long[steps];
                long[] entry = new long[steps];
                long[] exit = new long[steps];
                long[] allocated = new long[steps];
                for (int s = 0; s < steps; s++) {
                    long loss;
                    try (NDManager batch = data.newSubManager();
                            GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray in = x.duplicate();
                        in.attach(batch);
                        NDArray pred = trainer.forward(new NDList(in)).singletonOrThrow();
                        NDArray l = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                        gc.backward(l);
                        if (System.getProperty("probe") != null) {
                            // what the first native call after backward costs, whoever makes it
                            long p0 = now();
                            switch (System.getProperty("probe")) {
                                case "array" -> l.toFloatArray();
                                case "direct" -> l.toByteBuffer(true).getFloat(0);
                                case "detach" -> l.stopGradient().close();
                                default -> l.getDataType();
                            }
                            probe[s] = now() - p0;
                        }
                        long a0 = ALLOCATION.getCurrentThreadAllocatedBytes();
                        long t = now();
                        if (!BARE) {
                            engine.onBackward(l, System.nanoTime());
                        }
                        loss = now() - t;
                        allocated[s] = ALLOCATION.getCurrentThreadAllocatedBytes() - a0;
                    }
                    long a1 = ALLOCATION.getCurrentThreadAllocatedBytes();
                    long t0 = now();
                    StepOutcome o = BARE ? StepOutcome.PROCEED : engine.beforeStep(System.nanoTime());
                    long t1 = now();
                    allocated[s] += ALLOCATION.getCurrentThreadAllocatedBytes() - a1;
                    if (o.runUpdate()) {
                        trainer.step();
                    }
                    long a2 = ALLOCATION.getCurrentThreadAllocatedBytes();
                    long t2 = now();
                    if (!BARE) {
                        engine.afterStep(false, System.nanoTime());
                    }
                    long t3 = now();
                    allocated[s] += ALLOCATION.getCurrentThreadAllocatedBytes() - a2;
                    agent[s] = loss + (t1 - t0) + (t3 - t2);
                    lossRead[s] = loss;
                    entry[s] = t1 - t0;
                    exit[s] = t3 - t2;
                    update[s] = t2 - t1;
                }
                System.out.printf(
                        Locale.ROOT,
                        "%s, %d steps, %s, " + (CPU_TIME ? "thread cpu time" : "wall time")
                                + ": engine median %.1f us (backward %.1f, step entry"
                                + " %.1f, step exit %.1f), DJL update median %.1f us%n",
                        model,
                        steps,
                        agentArgs,
                        median(agent),
                        median(lossRead),
                        median(entry),
                        median(exit),
                        median(update));
                System.out.printf(Locale.ROOT, "engine's heap allocation per step: median %d bytes%n", (long)
                        (median(allocated) * 1000));
                if (System.getProperty("probe") != null) {
                    System.out.printf(
                            Locale.ROOT,
                            "first native call after backward (before the engine): median %.2f us%n",
                            median(probe));
                }
            }
        }
    }

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();
    /** The training thread's heap allocation, read around the engine's calls. */
    private static final com.sun.management.ThreadMXBean ALLOCATION = (com.sun.management.ThreadMXBean) THREADS;

    private static final boolean CPU_TIME = !Boolean.getBoolean("wall");

    /** {@code -Dbare=true}: the same loop without the engine, for DJL's own update time beside none. */
    private static final boolean BARE = Boolean.getBoolean("bare");

    /**
     * The training thread's CPU time (default): on a shared machine other processes stretch wall
     * time but not this; {@code -Dwall=true} for wall time.
     */
    private static long now() {
        return CPU_TIME ? THREADS.getCurrentThreadCpuTime() : System.nanoTime();
    }

    private static double median(long[] nanos) {
        long[] tail = Arrays.copyOfRange(nanos, nanos.length / 5, nanos.length); // past JIT warm-up
        Arrays.sort(tail);
        return tail[tail.length / 2] / 1000.0;
    }
}
