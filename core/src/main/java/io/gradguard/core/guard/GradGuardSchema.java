package io.gradguard.core.guard;

import io.gradguard.core.config.ConfigLoader;
import io.gradguard.core.config.ConfigSchema;
import io.gradguard.core.config.GradGuardConfig;
import io.gradguard.core.config.Keys;
import io.gradguard.core.config.OtlpKeys;
import io.gradguard.core.detect.DetectorConfig;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.recovery.RecoveryKeys;
import java.util.Map;

/** Every configuration key of the agent: its own, the policies', the detector's. */
public final class GradGuardSchema {

    /** The schema the agent loads. */
    public static final ConfigSchema SCHEMA = ClipPolicies.addTo(ConfigSchema.of(Keys.GENERAL))
            .and(RecoveryKeys.KEYS)
            .and(Keys.PROTECTION)
            .and(DetectorConfig.KEYS)
            .and(Keys.OUTPUTS)
            .and(OtlpKeys.KEYS)
            .and(Keys.INCIDENTS);

    private GradGuardSchema() {}

    /**
     * Loads and validates a configuration with this schema; any problem is fatal.
     *
     * @param agentArgs {@code key=value} pairs separated by commas
     * @param systemProperties the system properties
     * @param environment the environment
     * @return the configuration
     * @throws io.gradguard.core.config.ConfigException naming the key, the value and the fix
     */
    public static GradGuardConfig load(
            String agentArgs, Map<String, String> systemProperties, Map<String, String> environment) {
        return ConfigLoader.load(SCHEMA, agentArgs, systemProperties, environment);
    }
}
