package io.gradguard.core.recorder;

import io.gradguard.core.config.ConfigKey;
import io.gradguard.core.config.GradGuardConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** What every incident file says of the job beside its steps: the keys it set and the versions it runs. */
final class JobDescription {

    private JobDescription() {}

    /**
     * The keys a source set, with their values as written: never a secret (header values are
     * hidden, user information in an address is dropped).
     */
    static Map<String, String> setKeys(GradGuardConfig config) {
        Map<String, String> out = new LinkedHashMap<>();
        for (ConfigKey<?> key : config.schema().keys()) {
            if (config.isSet(key)) {
                out.put(key.name(), shown(key, config.get(key)));
            }
        }
        return Collections.unmodifiableMap(out);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static String shown(ConfigKey key, Object value) {
        if (value instanceof Map<?, ?> map) {
            StringBuilder names = new StringBuilder();
            for (Object name : map.keySet()) {
                names.append(names.length() == 0 ? "" : ",").append(name).append("=(hidden)");
            }
            return names.toString();
        }
        String text = key.type().format(value);
        if (text == null) {
            return "";
        }
        // The loader refuses credentials in addresses; should one get through, it is not copied.
        return text.replaceAll("(?<=://)[^/@\\s]*@", "").replaceAll("(://[^\\s?]*)\\?\\S*", "$1?(hidden)");
    }

    /** DJL's and its engine's versions; asked once, at the first incident. */
    static Map<String, String> versions() {
        Map<String, String> v = new LinkedHashMap<>();
        String own = FlightRecorder.class.getPackage().getImplementationVersion(); // the agent jar's manifest
        if (own != null) {
            v.put("gradguard", own);
        }
        v.put("java", System.getProperty("java.version"));
        try {
            v.put("djl", ai.djl.engine.Engine.getDjlVersion());
            ai.djl.engine.Engine engine = ai.djl.engine.Engine.getInstance();
            v.put("engine", engine.getEngineName());
            v.put("engine_version", engine.getVersion());
        } catch (RuntimeException | LinkageError e) {
            v.put("djl_error", e.toString());
        }
        return Collections.unmodifiableMap(v);
    }
}
