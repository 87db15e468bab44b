package io.gradguard.core.guard;

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

import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
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

    GuardedTraining(String agentArgs, float lr) throws ReflectiveOperationException {
        Engine.getInstance().setRandomSeed(7);
        model = Model.newInstance("guarded");
        model.setBlock(
                new SequentialBlock()
                        .add(Linear.builder().setUnits(16).build())
                        .add(Activation::relu)
                        .add(Linear.builder().setUnits(3).build()));
        DefaultTrainingConfig config =
                new DefaultTrainingConfig(Loss.l2Loss())
                        .optOptimizer(Optimizer.sgd().setLearningRateTracker(Tracker.fixed(lr)).build());
        trainer = model.newTrainer(config);
        trainer.initialize(new Shape(8, 5));
        data = model.getNDManager().newSubManager();
        x = data.randomNormal(new Shape(8, 5));
        y = data.randomNormal(new Shape(8, 3));
        var cfg = GradGuardSchema.load("summary=0,port=0," + agentArgs, Map.of(), Map.of());
        metrics = new GradGuardMetrics(registry, "guarded", cfg.run(), cfg.parameters(), cfg.maxParameters());
        guard = new StepEngine(DjlTrainer.of(trainer), "guarded", cfg, Optional::empty,
                List.of(metrics, new SummarySink(0)), new AgentErrors(registry, cfg.run()));
    }

    /** Forward and backward on the fixed batch; {@code scale} multiplies the inputs (NaN poisons). */
    void backward(float scale) {
        // a sub-manager per step closes the job's own temporaries, so tests can count the guard's
        try (NDManager step = data.newSubManager();
                GradientCollector gc = trainer.newGradientCollector()) {
            NDArray in = x.mul(scale);
            in.attach(step);
            NDArray pred = trainer.forward(new NDList(in)).singletonOrThrow();
            NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
            gc.backward(loss);
            guard.onBackward(loss); // as the agent's advice on GradientCollector.backward does
        }
    }

    /** What the agent's advice does: guard, then DJL's step unless skipped, then guard again. */
    StepOutcome step() {
        StepOutcome d = guard.beforeStep();
        boolean threw = false;
        try {
            if (d.runUpdate()) {
                trainer.step();
            }
        } catch (RuntimeException e) {
            threw = true;
            throw e;
        } finally {
            guard.afterStep(threw);
        }
        return d;
    }

    Map<String, float[]> weights() {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            out.put(p.getKey(), p.getValue().getArray().toFloatArray());
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
