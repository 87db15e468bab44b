package io.gradguard.core.log;

import io.gradguard.core.json.Json;
import java.util.Map;

/**
 * The step log's lines read back with the agent's own strict parser ({@link Json}): anything that is
 * not exactly one JSON value (trailing text included) throws, so a truncated line fails to parse.
 */
final class MiniJson {

    private MiniJson() {}

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(String text) {
        return (Map<String, Object>) Json.parse(text);
    }
}
