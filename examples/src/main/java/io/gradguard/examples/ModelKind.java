package io.gradguard.examples;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The architectures the reference trainer builds; the CLI names are the lower-case, dashed forms. */
enum ModelKind {
    MLP("mlp", "784-256-128-10 ReLU, 235,146 parameters"),
    CNN("cnn", "LeNet-5-like: conv5x5(6)-relu-maxpool, conv5x5(16)-relu-maxpool, 120-84-10, 61,706 parameters"),
    LSTM("lstm", "image rows as a 28-step sequence, LSTM(128), dense 10, 82,186 parameters"),
    RNN("rnn", "image rows as a 28-step sequence, plain ReLU RNN(128), dense 10, 21,514 parameters"),
    DEEP_MLP("deep-mlp", "26 x Linear(64)-ReLU + Linear(10): 54 parameter arrays, 154,890 parameters"),
    WIDE_MLP("wide-mlp", "784-4096-1024-10 ReLU, 7,420,938 parameters");

    private final String cliName;
    private final String description;

    ModelKind(String cliName, String description) {
        this.cliName = cliName;
        this.description = description;
    }

    String cliName() {
        return cliName;
    }

    String description() {
        return description;
    }

    static ModelKind fromCli(String name) {
        for (ModelKind kind : values()) {
            if (kind.cliName.equals(name)) {
                return kind;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "', expected one of " + names());
    }

    static String names() {
        return Arrays.stream(values()).map(ModelKind::cliName).collect(Collectors.joining("|"));
    }
}
