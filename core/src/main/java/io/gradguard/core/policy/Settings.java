package io.gradguard.core.policy;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.ValueTypes;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Policy settings as their declarations check and format them, so that a policy built in code
 * accepts exactly what configuration accepts and every policy spells its labels alike.
 */
final class Settings {

    private Settings() {}

    /** Checks a value against its key's declared range; returns it. */
    static <T> T require(ConfigKey<T> key, T value) {
        key.type().check(key.leaf(), value);
        return value;
    }

    /** A number as a label value: {@code inf}, {@code none} for NaN (an unset optional). */
    static String format(double value) {
        return ValueTypes.formatNumber(value);
    }

    /** An ordered, unmodifiable map of settings from alternating keys and values, by leaf name. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static Map<String, String> of(Object... keysAndValues) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            ConfigKey key = (ConfigKey) keysAndValues[i];
            Object value = keysAndValues[i + 1];
            map.put(
                    key.leaf(),
                    value instanceof Double d ? format(d) : key.type().format(value));
        }
        return Collections.unmodifiableMap(map);
    }
}
