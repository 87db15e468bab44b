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
import ai.djl.training.TrainingConfig;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small DJL job that checks the agent from the outside: a two-layer MLP (4 parameter arrays) on
 * a fixed regression task, SGD with learning rate 1, trained by hand. Before each
 * {@code Trainer.step()} it reads every gradient and computes its own norms in double precision;
 * after it, it compares each weight's change with the gradient clipped by the PyTorch
 * {@code clip_grad_norm_} rule for {@code -Dcheck.maxNorm} (or with zero on the step it poisons
 * with NaN, which the agent must skip). Prints the engine it runs on ({@code engine PyTorch 2.7.1,
 * DJL 0.35.1}), then one line per step:
 *
 * <pre>step N loss L global G norms NAME=V,... max_update_error E</pre>
 *
 * <p>Arguments: steps, the step whose input is NaN (0 for none). With {@code -Dcheck.subclass=true}
 * it trains with a {@code Trainer} subclass whose {@code step()} doubles the gradients before
 * calling {@code super.step()}; that subclass is the first DJL class the job loads, so its loading
 * is what loads {@code Trainer}. The agent must see the gradients at the subclass's entry.
 */
public final class ClipCheckJob {

    private ClipCheckJob() {}

    public static void main(String[] args) throws Exception {
        int steps = Integer.parseInt(args[0]);
        int nanStep = Integer.parseInt(args[1]);
        boolean subclass = Boolean.getBoolean("check.subclass");
        if (subclass) {
            // Before any other DJL class: the JVM loads Trainer while it defines this one.
            Class.forName(ClipCheckJob.class.getName() + "$DoublingTrainer");
        }
        Training.run(steps, nanStep, Double.parseDouble(System.getProperty("check.maxNorm")), subclass);
    }

    /** A Trainer subclass that doubles every gradient before the optimizer reads it. */
    public static final class DoublingTrainer extends Trainer {
        public DoublingTrainer(Model model, TrainingConfig config) {
            super(model, config);
        }

        @Override
        public void step() {
            for (Pair<String, Parameter> p : getModel().getBlock().getParameters()) {
                try (NDArray g = p.getValue().getArray().getGradient()) {
                    g.muli(2f);
                }
            }
            super.step();
        }
    }

    /** Kept apart from {@link ClipCheckJob} so that loading the main class loads no DJL type. */
    static final class Training {
        private Training() {}

        static void run(int steps, int nanStep, double maxNorm, boolean subclass) throws Exception {
            float lr = 1f;
            double applied = subclass ? 2 : 1; // what the optimizer sees, per unit of the clipped gradient
            Engine engine = Engine.getInstance();
            System.out.println(
                    "engine " + engine.getEngineName() + " " + engine.getVersion() + ", DJL " + Engine.getDjlVersion());
            engine.setRandomSeed(42);
            try (Model model = Model.newInstance("clip-check")) {
                model.setBlock(new SequentialBlock()
                        // 2,100 hidden units, so both of the agent's CPU paths are checked: the
                        // first weight (16,800 floats) is above the size summed in Java and read by a
                        // native dot product; the second (2,100 floats: a chunk and a part of another)
                        // and the biases are summed and scaled in Java.
                        .add(Linear.builder().setUnits(2100).build())
                        .add(Activation::relu)
                        .add(Linear.builder().setUnits(1).build()));
                DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.l2Loss())
                        .optOptimizer(Optimizer.sgd()
                                .setLearningRateTracker(Tracker.fixed(lr))
                                .build());
                try (Trainer trainer = subclass ? new DoublingTrainer(model, config) : model.newTrainer(config);
                        NDManager data = model.getNDManager().newSubManager()) {
                    trainer.initialize(new Shape(32, 8));
                    NDArray x = data.randomNormal(new Shape(32, 8));
                    NDArray y = x.sum(new int[] {1}, true).mul(0.5f);
                    List<Pair<String, Parameter>> params =
                            model.getBlock().getParameters().stream().toList();
                    for (int s = 1; s <= steps; s++) {
                        float lossValue;
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDArray in = s == nanStep ? x.mul(Float.NaN) : x;
                            NDArray pred = trainer.forward(new NDList(in)).singletonOrThrow();
                            NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                            lossValue = loss.getFloat();
                            gc.backward(loss);
                        }
                        List<float[]> grads = new ArrayList<>();
                        List<float[]> before = new ArrayList<>();
                        StringBuilder norms = new StringBuilder();
                        double total = 0;
                        for (Pair<String, Parameter> p : params) {
                            NDArray w = p.getValue().getArray();
                            try (NDArray g = w.getGradient()) {
                                float[] gv = g.toFloatArray();
                                double sq = 0;
                                for (float v : gv) {
                                    sq += (double) v * v;
                                }
                                total += sq;
                                grads.add(gv);
                                norms.append(norms.length() == 0 ? "" : ",")
                                        .append(p.getKey())
                                        .append('=')
                                        .append(Math.sqrt(sq));
                            }
                            before.add(w.toFloatArray());
                        }
                        double global = Math.sqrt(total);
                        trainer.step();
                        boolean skipped = s == nanStep;
                        double coef = Math.min(1, maxNorm / (global + 1e-6));
                        double maxError = 0;
                        for (int i = 0; i < params.size(); i++) {
                            float[] after = params.get(i).getValue().getArray().toFloatArray();
                            for (int j = 0; j < after.length; j++) {
                                double expected = skipped ? 0 : -lr * applied * coef * grads.get(i)[j];
                                maxError = Math.max(maxError, Math.abs((after[j] - before.get(i)[j]) - expected));
                            }
                        }
                        // one write per line: the agent's lines on stderr share the test's pipe
                        System.out.print(String.format(
                                Locale.ROOT,
                                "step %d loss %s global %s norms %s max_update_error %s%n",
                                s,
                                lossValue,
                                global,
                                norms,
                                maxError));
                        System.out.flush();
                    }
                }
            }
        }
    }
}
