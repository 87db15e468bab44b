package io.gradguard.core.jobs;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
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
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.djl.DjlTrainer;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.guard.StepEngine;
import io.gradguard.core.metrics.AgentErrors;
import io.gradguard.core.metrics.GradGuardMetrics;
import io.gradguard.core.recorder.FlightRecorder;
import io.gradguard.core.recorder.IncidentWriter;
import io.gradguard.core.shadow.ShadowSink;
import io.gradguard.core.step.StepReport;
import io.gradguard.core.step.StepSink;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * A small real DJL job (PyTorch engine) with the agent's sinks as the agent wires them: a 4-layer
 * MLP fitted by SGD to a noisy linear target on random mini-batches, whose step engine feeds the
 * metrics, the shadow policies and the flight recorder. The job measures its own gradient norms
 * (PyTorch's {@code norm()} of each gradient, before the update) to compare with what the
 * recorder wrote, and can make one chosen parameter's gradient explode at a chosen step by a loss
 * term on that parameter alone.
 */
public final class MlpJob implements AutoCloseable {

    /** The parameter names of the job's block, as DJL names them. */
    public static final List<String> PARAMETERS = List.of(
            "01Linear_weight",
            "01Linear_bias",
            "03Linear_weight",
            "03Linear_bias",
            "05Linear_weight",
            "05Linear_bias",
            "07Linear_weight",
            "07Linear_bias");

    public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    public final GradGuardConfig config;
    public final IncidentWriter writer;
    private final ReportCapture capture = new ReportCapture();
    /** Every report of the engine, in order. */
    public final List<StepReport> reports = capture.reports;
    /** Per step (index step - 1): the job's own norm of every gradient. */
    public final List<Map<String, Double>> ownNorms = new ArrayList<>();
    /** Per step: the loss the job passed to backward. */
    public final List<Double> ownLoss = new ArrayList<>();

    private final Model model;
    private final Trainer trainer;
    private final StepEngine engine;
    private final NDManager data;
    private final NDArray x;
    private final NDArray y;
    private final Random batches;

    /**
     * Makes the job and its engine.
     *
     * @param agentArgs agent arguments, as after {@code -javaagent:gradguard-agent.jar=}
     * @param seed seeds DJL's initialisation and the choice of batches
     */
    public MlpJob(String agentArgs, long seed) {
        Engine.getInstance().setRandomSeed((int) seed);
        SequentialBlock block = new SequentialBlock();
        for (int i = 0; i < 3; i++) {
            block.add(Linear.builder().setUnits(32).build()).add(Activation::relu);
        }
        block.add(Linear.builder().setUnits(4).build());
        model = Model.newInstance("recorded");
        model.setBlock(block);
        trainer = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss())
                .optOptimizer(Optimizer.sgd()
                        .setLearningRateTracker(Tracker.fixed(0.02f))
                        .build()));
        trainer.initialize(new Shape(16, 16));
        data = model.getNDManager().newSubManager();
        x = data.randomNormal(new Shape(512, 16));
        NDArray w = data.randomNormal(new Shape(16, 4));
        y = x.matMul(w).add(data.randomNormal(0, 0.1f, new Shape(512, 4), ai.djl.ndarray.types.DataType.FLOAT32));
        batches = new Random(seed);
        config = GradGuardSchema.load("summary=0,port=0," + agentArgs, Map.of(), Map.of());
        AgentErrors errors = new AgentErrors(registry, config.run());
        writer = IncidentWriter.open(config, errors);
        List<StepSink> sinks = new ArrayList<>();
        sinks.add(
                new GradGuardMetrics(registry, "recorded", config.run(), config.parameters(), config.maxParameters()));
        if (config.get(io.gradguard.core.config.Keys.SHADOW_POLICIES)) {
            sinks.add(new ShadowSink(registry, "recorded", config, Optional::empty));
        }
        if (writer != null) {
            sinks.add(new FlightRecorder(registry, "recorded", config, writer, null));
        }
        sinks.add(capture);
        engine = new StepEngine(DjlTrainer.of(trainer), "recorded", config, Optional::empty, sinks, errors);
    }

    /** One healthy step. */
    public StepReport step() {
        return step(null, 0f, false);
    }

    /**
     * One step on a random batch, as the agent's advice drives the engine.
     *
     * @param spiked the parameter whose gradient gets {@code spike} added to every element, or null
     * @param spike the amount
     * @param poisoned whether the batch is NaN (every gradient becomes NaN)
     * @return the step's report
     */
    public StepReport step(String spiked, float spike, boolean poisoned) {
        try (NDManager step = data.newSubManager();
                GradientCollector gc = trainer.newGradientCollector()) {
            int from = batches.nextInt(512 - 16);
            NDArray in = x.get(new NDIndex(from + ":" + (from + 16)));
            NDArray target = y.get(new NDIndex(from + ":" + (from + 16)));
            in.attach(step);
            target.attach(step);
            if (poisoned) {
                in = in.mul(Float.NaN);
            }
            NDArray pred = trainer.forward(new NDList(in)).singletonOrThrow();
            NDArray loss = trainer.getLoss().evaluate(new NDList(target), new NDList(pred));
            if (spiked != null) {
                loss = loss.add(parameter(spiked).getArray().sum().mul(spike));
            }
            gc.backward(loss);
            engine.onBackward(loss, System.nanoTime());
            ownLoss.add((double) loss.getFloat());
            ownNorms.add(ownNorms(step));
        }
        Advice.step(engine, trainer::step);
        return reports.get(reports.size() - 1);
    }

    private Map<String, Double> ownNorms(NDManager step) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            NDArray g = p.getValue().getArray().getGradient();
            g.attach(step);
            NDArray n = g.norm();
            n.attach(step);
            out.put(p.getKey(), (double) n.getFloat());
        }
        return out;
    }

    private Parameter parameter(String name) {
        for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
            if (p.getKey().equals(name)) {
                return p.getValue();
            }
        }
        throw new IllegalArgumentException("no parameter " + name + " in " + PARAMETERS);
    }

    public double counter(String name, String... tags) {
        var c = registry.find(name).tags(tags).counter();
        return c == null ? Double.NaN : c.count();
    }

    public double gauge(String name, String... tags) {
        var g = registry.find(name).tags(tags).gauge();
        return g == null ? Double.NaN : g.value();
    }

    /** Closes the writer first: what it has queued is on disk when this returns. */
    @Override
    public void close() {
        if (writer != null) {
            writer.close();
        }
        data.close();
        trainer.close();
        model.close();
    }
}
