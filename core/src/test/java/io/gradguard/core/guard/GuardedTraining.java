package io.gradguard.core.guard;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
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
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.gradguard.core.step.StepReport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real DJL training setup for engine tests: a seeded MLP with plain SGD, and a {@link StepGuard}
 * driven exactly as the agent's advice drives it around {@code Trainer.step()}.
 */
final class GuardedTraining implements AutoCloseable {

    final Model model;
    final Trainer trainer;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final StepEngine guard;
    final GradGuardMetrics metrics;
    private final NDManager data;
    private final NDArray x;
    private final NDArray y;

    /** Every report the engine handed to its sinks, in order. */
    private final io.gradguard.core.jobs.ReportCapture capture = new io.gradguard.core.jobs.ReportCapture();

    final List<StepReport> reports = capture.reports;

    GuardedTraining(String agentArgs, float lr) {
        this(
                agentArgs,
                lr,
                new SequentialBlock()
                        .add(Linear.builder().setUnits(16).build())
                        .add(Activation::relu)
                        .add(Linear.builder().setUnits(3).build()),
                5,
                3);
    }

    /** A job of this block, fed batches of 8 rows of {@code inputs} columns, fitted to {@code outputs}. */
    GuardedTraining(String agentArgs, float lr, Block block, int inputs, int outputs) {
        this(
                agentArgs,
                Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).build(),
                block,
                inputs,
                outputs);
    }

    /** The default MLP trained by this optimizer. */
    GuardedTraining(String agentArgs, Optimizer optimizer) {
        this(
                agentArgs,
                optimizer,
                new SequentialBlock()
                        .add(Linear.builder().setUnits(16).build())
                        .add(Activation::relu)
                        .add(Linear.builder().setUnits(3).build()),
                5,
                3);
    }

    GuardedTraining(String agentArgs, Optimizer optimizer, Block block, int inputs, int outputs) {
        Engine.getInstance().setRandomSeed(7);
        model = Model.newInstance("guarded");
        model.setBlock(block);
        DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(optimizer);
        trainer = model.newTrainer(config);
        trainer.initialize(new Shape(8, inputs));
        data = model.getNDManager().newSubManager();
        x = data.randomNormal(new Shape(8, inputs));
        y = data.randomNormal(new Shape(8, outputs));
        var cfg = GradGuardSchema.load("summary=0,port=0," + agentArgs, Map.of(), Map.of());
        metrics = new GradGuardMetrics(registry, "guarded", cfg.run(), cfg.parameters(), cfg.maxParameters());
        guard = new StepEngine(
                DjlTrainer.of(trainer),
                "guarded",
                cfg,
                Optional::empty,
                List.of(metrics, new SummarySink(0), capture),
                new AgentErrors(registry, cfg.run()));
    }

    /** Forward and backward on the fixed batch; {@code scale} multiplies the inputs (NaN poisons). */
    void backward(float scale) {
        backward(scale, true);
    }

    /** The same, without the agent seeing the loss: what a job without the agent does. */
    void backwardWithoutAgent(float scale) {
        backward(scale, false);
    }

    private void backward(float scale, boolean agentSeesIt) {
        // a sub-manager per step closes the job's own temporaries, so tests can count the guard's
        try (NDManager step = data.newSubManager();
                GradientCollector gc = trainer.newGradientCollector()) {
            NDArray in = x.mul(scale);
            in.attach(step);
            NDArray pred = trainer.forward(new NDList(in)).singletonOrThrow();
            NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
            gc.backward(loss);
            if (agentSeesIt) {
                guard.onBackward(loss, System.nanoTime()); // as the agent's advice on GradientCollector.backward does
            }
        }
    }

    /** What the agent's advice does: guard, then DJL's step unless skipped, then guard again. */
    StepOutcome step() {
        return io.gradguard.core.jobs.Advice.step(guard, trainer::step);
    }

    Map<String, float[]> weights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
        }
        return out;
    }

    /**
     * The job's own view of what the optimizer will update: each distinct parameter that requires
     * a gradient, by its first name, with its gradient.
     */
    Map<String, float[]> trainableGradients() {
        Map<String, float[]> out = new LinkedHashMap<>();
        java.util.Set<Parameter> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            if (p.getValue().requiresGradient() && seen.add(p.getValue())) {
                try (NDArray g = p.getValue().getArray().getGradient()) {
                    out.put(p.getKey(), g.toFloatArray());
                }
            }
        }
        return out;
    }

    Map<String, float[]> gradients() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            try (NDArray g = p.getValue().getArray().getGradient()) {
                out.put(p.getKey(), g.toFloatArray());
            }
        }
        return out;
    }

    double counter(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        return c == null ? Double.NaN : c.count();
    }

    double gauge(String name, String... tags) {
        var g = registry.find(name).tags(tags).gauge();
        return g == null ? Double.NaN : g.value();
    }

    @Override
    public void close() {
        data.close();
        trainer.close();
        model.close();
    }
}
