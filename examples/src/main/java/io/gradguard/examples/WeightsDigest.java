package io.gradguard.examples;

import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.util.Pair;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * SHA-256 over every parameter's values: parameters sorted by name, each value as float32
 * little-endian bytes. Runs with and without the agent are compared on it for bit-identity.
 */
final class WeightsDigest {

    private WeightsDigest() {}

    static String sha256(ParameterList parameters) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
        List<Pair<String, Parameter>> sorted = new ArrayList<>();
        parameters.forEach(sorted::add);
        sorted.sort(Comparator.comparing(Pair::getKey));
        for (Pair<String, Parameter> entry : sorted) {
            float[] values = entry.getValue().getArray().toFloatArray();
            ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asFloatBuffer().put(values);
            digest.update(bytes.array());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
