package io.gradguard.examples;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A training job that is healthy or fails in one particular way. Each scenario fixes the defaults
 * (model, learning rate, init) that make it fail reproducibly with the default seed; the failures
 * are all ones that bounded update size (gradient clipping, skipping non-finite steps) can fix.
 */
enum Scenario {
    /** Plain SGD that trains well. */
    HEALTHY("healthy", ModelKind.MLP, 0.1, "xavier", 1.0, List.of()),
    /** The healthy job with a learning rate 15x too high: the first large gradients throw it off. */
    EXPLODE_LR("explode-lr", ModelKind.MLP, 1.5, "xavier", 1.0, List.of()),
    /** A 26-layer plain ReLU network, weights N(0, 0.2^2) (1.13x He scale for width 64): initial loss ~20: activations and gradients grow layer by layer. */
    EXPLODE_INIT("explode-init", ModelKind.DEEP_MLP, 0.01, "normal:0.2", 1.0, List.of()),
    /** A ReLU RNN over the 28 image rows with recurrent weights N(0, 0.05^2) scaled 3x (spectral radius ~1.7): gradients grow through time. */
    EXPLODE_RNN("explode-rnn", ModelKind.RNN, 0.01, "normal:0.05", 3.0, List.of()),
    /**
     * The healthy job with one poisoned batch (NaN pixels) whose gradients are all non-finite. The poisoned
     * batch's own loss is NaN by construction and does not count as divergence; NaN weights afterwards do.
     */
    NAN_INJECT("nan-inject", ModelKind.MLP, 0.1, "xavier", 1.0, List.of(20));

    private final String cliName;
    private final ModelKind defaultModel;
    private final double defaultLearningRate;
    private final String defaultInit;
    private final double recurrentWeightScale;
    private final List<Integer> defaultNanSteps;

    Scenario(String cliName, ModelKind defaultModel, double defaultLearningRate, String defaultInit,
            double recurrentWeightScale, List<Integer> defaultNanSteps) {
        this.cliName = cliName;
        this.defaultModel = defaultModel;
        this.defaultLearningRate = defaultLearningRate;
        this.defaultInit = defaultInit;
        this.recurrentWeightScale = recurrentWeightScale;
        this.defaultNanSteps = defaultNanSteps;
    }

    String cliName() {
        return cliName;
    }

    ModelKind defaultModel() {
        return defaultModel;
    }

    double defaultLearningRate() {
        return defaultLearningRate;
    }

    String defaultInit() {
        return defaultInit;
    }

    /** Factor applied to recurrent (h2h) weights after initialisation; 1 = untouched. */
    double recurrentWeightScale() {
        return recurrentWeightScale;
    }

    List<Integer> defaultNanSteps() {
        return defaultNanSteps;
    }

    static Scenario fromCli(String name) {
        for (Scenario s : values()) {
            if (s.cliName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown scenario '" + name + "', expected one of " + names());
    }

    static String names() {
        return Arrays.stream(values()).map(Scenario::cliName).collect(Collectors.joining("|"));
    }
}
