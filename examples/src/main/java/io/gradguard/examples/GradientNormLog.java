package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.util.Pair;
import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code --grad-norms}: one JSON line per step, {"step":k,"norms":{"name":L2,...}}, computed on the
 * host in double precision so outside tests can compare against an independent figure. Non-finite
 * norms are written as the strings "NaN", "Infinity", "-Infinity" to keep the file strict JSON.
 */
final class GradientNormLog implements BeforeStep, Closeable {

    private final BufferedWriter writer;

    GradientNormLog(Path file) throws IOException {
        writer = Files.newBufferedWriter(file);
    }

    @Override
    public void beforeStep(int step, ParameterList parameters) throws IOException {
        StringBuilder line = new StringBuilder(64 + 48 * parameters.size());
        line.append("{\"step\":").append(step).append(",\"norms\":{");
        boolean first = true;
        for (Pair<String, Parameter> entry : parameters) {
            if (!entry.getValue().requiresGradient()) {
                continue;
            }
            double sumOfSquares = 0;
            // getGradient() opens a new native handle on every call: close it.
            try (NDArray gradient = entry.getValue().getArray().getGradient()) {
                for (float v : gradient.toFloatArray()) {
                    sumOfSquares += (double) v * v;
                }
            }
            line.append(first ? "" : ",")
                    .append('"')
                    .append(entry.getKey())
                    .append("\":")
                    .append(Json.number(Math.sqrt(sumOfSquares)));
            first = false;
        }
        writer.write(line.append("}}\n").toString());
    }

    @Override
    public void close() throws IOException {
        writer.close();
    }
}
