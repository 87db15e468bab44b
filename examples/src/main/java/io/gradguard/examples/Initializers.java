package io.gradguard.examples;

import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.initializer.UniformInitializer;
import ai.djl.training.initializer.XavierInitializer;

/** Parses {@code --init} specs: xavier | he | normal:&lt;sigma&gt; | uniform:&lt;bound&gt;. */
final class Initializers {

    private Initializers() {}

    static Initializer parse(String spec) {
        String[] parts = spec.split(":", 2);
        switch (parts[0]) {
            case "xavier":
                noArgument(spec, parts);
                return new XavierInitializer();
            case "he":
                noArgument(spec, parts);
                // Kaiming normal: N(0, 2 / fan_in), the scale that keeps ReLU activations stable.
                return new XavierInitializer(XavierInitializer.RandomType.GAUSSIAN, XavierInitializer.FactorType.IN, 2);
            case "normal":
                return new NormalInitializer(argument(spec, parts));
            case "uniform":
                return new UniformInitializer(argument(spec, parts));
            default:
                throw new IllegalArgumentException("--init: unknown initializer '" + spec
                        + "', expected xavier|he|normal:<sigma>|uniform:<bound>");
        }
    }

    private static void noArgument(String spec, String[] parts) {
        if (parts.length > 1) {
            throw new IllegalArgumentException("--init: '" + parts[0] + "' takes no argument, got '" + spec + "'");
        }
    }

    private static float argument(String spec, String[] parts) {
        try {
            float value = Float.parseFloat(parts.length > 1 ? parts[1] : "");
            if (value > 0 && Float.isFinite(value)) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through to the one message below
        }
        throw new IllegalArgumentException(
                "--init: '" + spec + "' needs a positive number, e.g. " + parts[0] + ":0.05");
    }
}
