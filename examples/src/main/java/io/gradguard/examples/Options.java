package io.gradguard.examples;

import java.nio.file.Path;

/**
 * Everything one training run needs, with scenario-dependent defaults already resolved. Built by the
 * command line or, in tests, from it with {@link #toBuilder()}: the components are many, and naming
 * each one at the call site is what keeps a changed setting visible.
 *
 * @param noFault true when this is a scenario's healthy twin ({@code --no-fault})
 * @param data a directory of IDX files, {@code "synthetic"}, or null for the Debian default with a
 *     synthetic fallback
 * @param maxSteps stop after this many optimizer steps; 0 = no limit
 * @param limitTrain use only the first N training examples; 0 = all
 * @param limitTest use only the first N test examples; 0 = all
 * @param faults what the run injects mid-training (NaN or corrupt batches, a learning-rate jump)
 * @param divergenceBound a batch loss above this (or NaN/Inf) marks the run diverged
 * @param summary where to write the JSON summary, or null
 * @param gradNorms where to write per-step gradient norms (manual loop only), or null
 * @param recurrentScale factor applied to recurrent (h2h) weights after initialisation
 * @param handClip manual loop only: clip the global gradient norm to this by hand before each step
 *     (per-parameter {@code norm().getFloat()}, global norm on the host, {@code muli}); NaN = off
 * @param djlClipGrad DJL's own {@code optClipGrad} on the optimizer; NaN = off
 */
record Options(
        ModelKind model,
        Scenario scenario,
        boolean noFault,
        int epochs,
        int batchSize,
        OptimizerKind optimizer,
        double learningRate,
        double momentum,
        String init,
        double recurrentScale,
        int seed,
        String data,
        DeviceChoice device,
        LoopKind loop,
        int maxSteps,
        int limitTrain,
        int limitTest,
        Faults faults,
        double divergenceBound,
        boolean stopOnDivergence,
        Path summary,
        Path gradNorms,
        double handClip,
        double djlClipGrad) {

    enum OptimizerKind {
        SGD,
        ADAM
    }

    enum LoopKind {
        EASY,
        MANUAL
    }

    enum DeviceChoice {
        CPU,
        GPU,
        AUTO
    }

    Options {
        if (gradNorms != null && loop != LoopKind.MANUAL) {
            throw new IllegalArgumentException("--grad-norms needs --loop manual");
        }
        if (!Double.isNaN(handClip) && loop != LoopKind.MANUAL) {
            throw new IllegalArgumentException("--hand-clip needs --loop manual");
        }
        if (!Double.isNaN(handClip) && gradNorms != null) {
            throw new IllegalArgumentException("--hand-clip and --grad-norms cannot be combined");
        }
    }

    /** The CLI defaults for {@code scenario}; tests adjust them through {@link #toBuilder()}. */
    static Options defaults(Scenario scenario) {
        return CommandLineOptions.parse("--scenario", scenario.cliName());
    }

    /** The same run without its scenario's fault: same model, data, optimizer, rate (unless the rate is the fault), steps. */
    Options healthyTwin() {
        return scenario.withoutFault(toBuilder(), optimizer).build();
    }

    Builder toBuilder() {
        return new Builder(this);
    }

    /** Sets components by name; {@link #build()} validates them together. */
    static final class Builder {
        private ModelKind model;
        private Scenario scenario;
        private boolean noFault;
        private int epochs;
        private int batchSize;
        private OptimizerKind optimizer;
        private double learningRate;
        private double momentum;
        private String init;
        private double recurrentScale;
        private int seed;
        private String data;
        private DeviceChoice device;
        private LoopKind loop;
        private int maxSteps;
        private int limitTrain;
        private int limitTest;
        private Faults faults;
        private double divergenceBound;
        private boolean stopOnDivergence;
        private Path summary;
        private Path gradNorms;
        private double handClip;
        private double djlClipGrad;

        /** Starts from {@code scenario}'s own model, rates, init and faults; the rest as the CLI defaults them. */
        Builder(Scenario scenario, OptimizerKind optimizer) {
            this.scenario = scenario;
            this.optimizer = optimizer;
            model = scenario.defaultModel();
            learningRate = scenario.defaultLearningRate(optimizer);
            init = scenario.defaultInit();
            recurrentScale = scenario.recurrentWeightScale();
            faults = scenario.defaultFaults();
            handClip = Double.NaN;
            djlClipGrad = Double.NaN;
        }

        private Builder(Options o) {
            model = o.model;
            scenario = o.scenario;
            noFault = o.noFault;
            epochs = o.epochs;
            batchSize = o.batchSize;
            optimizer = o.optimizer;
            learningRate = o.learningRate;
            momentum = o.momentum;
            init = o.init;
            recurrentScale = o.recurrentScale;
            seed = o.seed;
            data = o.data;
            device = o.device;
            loop = o.loop;
            maxSteps = o.maxSteps;
            limitTrain = o.limitTrain;
            limitTest = o.limitTest;
            faults = o.faults;
            divergenceBound = o.divergenceBound;
            stopOnDivergence = o.stopOnDivergence;
            summary = o.summary;
            gradNorms = o.gradNorms;
            handClip = o.handClip;
            djlClipGrad = o.djlClipGrad;
        }

        Builder model(ModelKind v) {
            model = v;
            return this;
        }

        Builder noFault(boolean v) {
            noFault = v;
            return this;
        }

        Builder epochs(int v) {
            epochs = v;
            return this;
        }

        Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        Builder momentum(double v) {
            momentum = v;
            return this;
        }

        Builder init(String v) {
            init = v;
            return this;
        }

        Builder recurrentScale(double v) {
            recurrentScale = v;
            return this;
        }

        Builder seed(int v) {
            seed = v;
            return this;
        }

        Builder data(String v) {
            data = v;
            return this;
        }

        Builder device(DeviceChoice v) {
            device = v;
            return this;
        }

        Builder loop(LoopKind v) {
            loop = v;
            return this;
        }

        /** {@code --max-steps}, {@code --limit-train}, {@code --limit-test}; 0 = no limit. */
        Builder limits(int steps, int train, int test) {
            maxSteps = steps;
            limitTrain = train;
            limitTest = test;
            return this;
        }

        Builder faults(Faults v) {
            faults = v;
            return this;
        }

        Builder divergence(double bound, boolean stop) {
            divergenceBound = bound;
            stopOnDivergence = stop;
            return this;
        }

        Builder stopOnDivergence(boolean v) {
            stopOnDivergence = v;
            return this;
        }

        Builder outputs(Path summaryFile, Path gradNormsFile) {
            summary = summaryFile;
            gradNorms = gradNormsFile;
            return this;
        }

        Builder clipping(double hand, double djl) {
            handClip = hand;
            djlClipGrad = djl;
            return this;
        }

        Options build() {
            return new Options(
                    model,
                    scenario,
                    noFault,
                    epochs,
                    batchSize,
                    optimizer,
                    learningRate,
                    momentum,
                    init,
                    recurrentScale,
                    seed,
                    data,
                    device,
                    loop,
                    maxSteps,
                    limitTrain,
                    limitTest,
                    faults,
                    divergenceBound,
                    stopOnDivergence,
                    summary,
                    gradNorms,
                    handClip,
                    djlClipGrad);
        }
    }
}
