package io.gradguard.examples;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A training job that is healthy or fails in one particular way. Each scenario fixes the defaults
 * (model, learning rate, init, injected faults) that make it fail reproducibly with the default seed,
 * and names its healthy twin: the same model, data, optimizer, rate and steps without the fault
 * ({@link #healthyTwin()}, {@code --no-fault}), the figure a rescued run is held against. The jobs built
 * on the healthy one take Adam's usual rate, 0.001, with {@code --optimizer adam}.
 */
enum Scenario {
    /** Plain SGD (or Adam at its usual 0.001) that trains well. */
    HEALTHY("healthy", ModelKind.MLP, 0.1, 0.001, "xavier", 1.0, Faults.NONE, null),
    /** The healthy job with a learning rate 15x too high: the first large gradients throw it off. */
    EXPLODE_LR("explode-lr", ModelKind.MLP, 1.5, 1.5, "xavier", 1.0, Faults.NONE, "--lr"),
    /** A 26-layer plain ReLU network, weights N(0, 0.2^2) (1.13x He scale for width 64): initial loss ~20: activations and gradients grow layer by layer. */
    EXPLODE_INIT("explode-init", ModelKind.DEEP_MLP, 0.01, 0.01, "normal:0.2", 1.0, Faults.NONE, "--init"),
    /** A ReLU RNN over the 28 image rows with recurrent weights N(0, 0.05^2) scaled 3x (spectral radius ~1.7): gradients grow through time. */
    EXPLODE_RNN("explode-rnn", ModelKind.RNN, 0.01, 0.01, "normal:0.05", 3.0, Faults.NONE, "--recurrent-scale"),
    /**
     * The healthy job with one poisoned batch (NaN pixels) whose gradients are all non-finite. The poisoned
     * batch's own loss is NaN by construction and does not count as divergence; NaN weights afterwards do.
     */
    NAN_INJECT(
            "nan-inject",
            ModelKind.MLP,
            0.1,
            0.001,
            "xavier",
            1.0,
            Faults.NONE.withNanSteps(List.of(20)),
            "--nan-steps"),
    /**
     * The healthy job trained well for 119 steps, then its own step schedule multiplies the rate by 60 (a
     * decay factor written upside down): every later update is 60x too large and the network is wrecked.
     */
    LR_JUMP(
            "lr-jump",
            ModelKind.MLP,
            0.1,
            0.001,
            "xavier",
            1.0,
            Faults.NONE.withLrJump(new Faults.LrJump(120, 60)),
            "--lr-jump"),
    /**
     * The healthy job fed batches that skipped the pixel normalisation (x255), as when one shard of the
     * data was written raw: a raw batch every 30 steps from step 50, and five in a row (170-174) where the
     * shuffle brought the shard's batches together. A corrupt batch's own loss is not judged; what its
     * oversized update leaves behind is. One such batch wrecks plain SGD; Adam bounds each update, so it
     * takes the repeats to hurt it.
     */
    CORRUPT_BATCHES(
            "corrupt-batches",
            ModelKind.MLP,
            0.1,
            0.001,
            "xavier",
            1.0,
            Faults.NONE.withCorruption(
                    Faults.parseSteps(
                            "--corrupt-steps",
                            List.of("50", "80", "110", "140", "170-174", "200", "230", "260", "290")),
                    Faults.UNNORMALISED),
            "--corrupt-steps");

    private final String cliName;
    private final ModelKind defaultModel;
    private final double sgdRate;
    private final double adamRate;
    private final String defaultInit;
    private final double recurrentWeightScale;
    private final Faults defaultFaults;
    private final String faultOption;

    Scenario(
            String cliName,
            ModelKind defaultModel,
            double sgdRate,
            double adamRate,
            String defaultInit,
            double recurrentWeightScale,
            Faults defaultFaults,
            String faultOption) {
        this.cliName = cliName;
        this.defaultModel = defaultModel;
        this.sgdRate = sgdRate;
        this.adamRate = adamRate;
        this.defaultInit = defaultInit;
        this.recurrentWeightScale = recurrentWeightScale;
        this.defaultFaults = defaultFaults;
        this.faultOption = faultOption;
    }

    String cliName() {
        return cliName;
    }

    ModelKind defaultModel() {
        return defaultModel;
    }

    /**
     * The scenario's rate for {@code optimizer}. Jobs built on the healthy one use Adam's usual 0.001 with
     * Adam; the explode-* rates are what makes those jobs fail and stay as they are.
     */
    double defaultLearningRate(Options.OptimizerKind optimizer) {
        return optimizer == Options.OptimizerKind.ADAM ? adamRate : sgdRate;
    }

    String defaultInit() {
        return defaultInit;
    }

    /** Factor applied to recurrent (h2h) weights after initialisation; 1 = untouched. */
    double recurrentWeightScale() {
        return recurrentWeightScale;
    }

    Faults defaultFaults() {
        return defaultFaults;
    }

    /** The option that carries this scenario's fault ({@code --lr} for explode-lr), or null for healthy. */
    String faultOption() {
        return faultOption;
    }

    /** The options of this scenario's healthy twin with every other setting at its default. */
    Options healthyTwin() {
        return Options.defaults(this).healthyTwin();
    }

    /**
     * Removes this scenario's fault from {@code options}: the injected faults always, and the setting
     * that is the fault of a start-of-training explosion (rate, init, recurrent scale) back to the healthy one.
     */
    Options.Builder withoutFault(Options.Builder options, Options.OptimizerKind optimizer) {
        options.faults(Faults.NONE).noFault(true);
        return switch (this) {
            case EXPLODE_LR -> options.learningRate(HEALTHY.defaultLearningRate(optimizer));
            case EXPLODE_INIT -> options.init(HEALTHY.defaultInit());
            case EXPLODE_RNN -> options.recurrentScale(HEALTHY.recurrentWeightScale());
            default -> options;
        };
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
