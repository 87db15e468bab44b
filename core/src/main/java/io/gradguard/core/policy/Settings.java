package io.gradguard.core.policy;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Formats policy settings as exported label values, so every policy spells numbers alike. */
final class Settings {

    private Settings() {}

    /**
     * Formats a number as a label value: {@code inf} for infinity and {@code none} for NaN (an
     * unset optional), so labels never carry Java's "Infinity"/"NaN" spellings.
     */
    static String format(double value) {
        if (Double.isNaN(value)) {
            return "none";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        return Double.toString(value);
    }

    /** Builds an ordered, unmodifiable map from alternating key / value strings. */
    static Map<String, String> of(String... keysAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            map.put(keysAndValues[i], keysAndValues[i + 1]);
        }
        return Collections.unmodifiableMap(map);
    }

    static void requirePositive(String key, double value) {
        if (!(value > 0) || Double.isNaN(value)) {
            throw new IllegalArgumentException(key + " must be > 0, got " + value);
        }
    }
}
