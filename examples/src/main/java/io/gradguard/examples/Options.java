package io.gradguard.examples;

import java.nio.file.Path;
import java.util.List;

/**
 * Everything one training run needs, with scenario-dependent defaults already resolved.
 *
 * @param data a directory of IDX files, {@code "synthetic"}, or null for the Debian default with a
 *     synthetic fallback
 * @param maxSteps stop after this many optimizer steps; 0 = no limit
 * @param limitTrain use only the first N training examples; 0 = all
 * @param limitTest use only the first N test examples; 0 = all
 * @param nanSteps 1-based optimizer steps whose batch is poisoned with NaN pixels
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
        int epochs,
        int batchSize,
        double learningRate,
        OptimizerKind optimizer,
        double momentum,
        String init,
        int seed,
        String data,
        DeviceChoice device,
        LoopKind loop,
        int maxSteps,
        int limitTrain,
        int limitTest,
        List<Integer> nanSteps,
        double divergenceBound,
        boolean stopOnDivergence,
        Path summary,
        Path gradNorms,
        double recurrentScale,
        double handClip,
        double djlClipGrad) {

    enum OptimizerKind { SGD, ADAM }

    enum LoopKind { EASY, MANUAL }

    enum DeviceChoice { CPU, GPU, AUTO }

    Options {
        nanSteps = List.copyOf(nanSteps);
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

    /** The CLI defaults for {@code scenario}; tests adjust them with the {@code with*} methods. */
    static Options defaults(Scenario scenario) {
        return CommandLineOptions.parse("--scenario", scenario.cliName());
    }

    Options withModel(ModelKind m) {
        return new Options(m, scenario, epochs, batchSize, learningRate, optimizer, momentum, init, seed, data, device,
                loop, maxSteps, limitTrain, limitTest, nanSteps, divergenceBound, stopOnDivergence, summary, gradNorms, recurrentScale, handClip, djlClipGrad);
    }

    Options withEpochs(int e) {
        return new Options(model, scenario, e, batchSize, learningRate, optimizer, momentum, init, seed, data, device,
                loop, maxSteps, limitTrain, limitTest, nanSteps, divergenceBound, stopOnDivergence, summary, gradNorms, recurrentScale, handClip, djlClipGrad);
    }

    Options withLoop(LoopKind l) {
        return new Options(model, scenario, epochs, batchSize, learningRate, optimizer, momentum, init, seed, data,
                device, l, maxSteps, limitTrain, limitTest, nanSteps, divergenceBound, stopOnDivergence, summary,
                gradNorms, recurrentScale, handClip, djlClipGrad);
    }

    Options withLimits(int steps, int train, int test) {
        return new Options(model, scenario, epochs, batchSize, learningRate, optimizer, momentum, init, seed, data,
                device, loop, steps, train, test, nanSteps, divergenceBound, stopOnDivergence, summary, gradNorms, recurrentScale, handClip, djlClipGrad);
    }

    Options withStopOnDivergence(boolean stop) {
        return new Options(model, scenario, epochs, batchSize, learningRate, optimizer, momentum, init, seed, data,
                device, loop, maxSteps, limitTrain, limitTest, nanSteps, divergenceBound, stop, summary, gradNorms, recurrentScale, handClip, djlClipGrad);
    }

    Options withGradNorms(Path file) {
        return new Options(model, scenario, epochs, batchSize, learningRate, optimizer, momentum, init, seed, data,
                device, loop, maxSteps, limitTrain, limitTest, nanSteps, divergenceBound, stopOnDivergence, summary,
                file, recurrentScale, handClip, djlClipGrad);
    }
}
