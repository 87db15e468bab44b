package io.gradguard.core.config;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The agent's whole, validated configuration. Built by {@link ConfigLoader} from agent args,
 * {@code gradguard.<key>} system properties, {@code GRADGUARD_<KEY>} environment variables and the
 * YAML file, in that order of precedence.
 *
 * @param port scrape endpoint port; 0 = no endpoint; {@link #AUTO_PORT} (-1) = auto (default 9404)
 * @param host address the endpoint binds (default 127.0.0.1)
 * @param run value of the {@code run} label (default: generated)
 * @param parameters allow-list regex for per-parameter series (default {@code .*})
 * @param maxParameters cap on parameters with per-parameter series (default 500)
 * @param summarySeconds seconds between console summary lines; 0 = off (default 10)
 * @param updateRatioEvery weight norms, update ratios and max |g| every N steps; 0 = never (default 100)
 * @param policy the clipping policy
 * @param onNonfinite what to do with a step whose gradients are not finite (default skip)
 * @param maxConsecutiveSkips after this many skipped steps in a row, log loudly; 0 = no limit
 * @param failOnMaxSkips whether reaching {@code maxConsecutiveSkips} also fails the job (false)
 * @param detector spike / vanishing detector settings
 * @param configFile the YAML file named by {@code config}, watched for edits; null if none
 * @param log path of the JSON Lines step log; null = off
 * @param logMaxBytes size at which the step log is rotated (default 64 MiB)
 * @param pushgateway {@code HOST:PORT} of a Prometheus Pushgateway; null = no pushing
 * @param pushIntervalSeconds seconds between pushes (default 15)
 * @param authFile file holding {@code user:password} for HTTP basic auth on the endpoint; null = no auth
 * @param tlsKeystore PKCS12 keystore that turns the endpoint into HTTPS; null = plain HTTP
 * @param tlsPasswordEnv name of the environment variable holding the keystore password; null if
 *     {@code tlsKeystore} is null (the password itself never passes through configuration)
 */
public record GradGuardConfig(
        int port,
        String host,
        String run,
        Pattern parameters,
        int maxParameters,
        int summarySeconds,
        int updateRatioEvery,
        PolicyConfig policy,
        NonFiniteAction onNonfinite,
        int maxConsecutiveSkips,
        boolean failOnMaxSkips,
        DetectorConfig detector,
        Path configFile,
        Path log,
        long logMaxBytes,
        String pushgateway,
        int pushIntervalSeconds,
        Path authFile,
        Path tlsKeystore,
        String tlsPasswordEnv) {

    /** The value of {@link #port()} that means {@code port=auto}: 9404, or the next free port. */
    public static final int AUTO_PORT = -1;

    /**
     * This configuration with another policy: what a hot reload changes, since only
     * {@code policy.*} takes effect while the job runs.
     *
     * @param newPolicy the policy read from the edited file
     * @return a copy with {@code policy} replaced
     */
    public GradGuardConfig withPolicy(PolicyConfig newPolicy) {
        return new GradGuardConfig(
                port, host, run, parameters, maxParameters, summarySeconds, updateRatioEvery, newPolicy,
                onNonfinite, maxConsecutiveSkips, failOnMaxSkips, detector, configFile, log, logMaxBytes,
                pushgateway, pushIntervalSeconds, authFile, tlsKeystore, tlsPasswordEnv);
    }

    /**
     * This configuration with another run id: the agent pins the id it generated at start so that
     * every part of it labels the same run.
     *
     * @param newRun the run id
     * @return a copy with {@code run} replaced
     */
    public GradGuardConfig withRun(String newRun) {
        return new GradGuardConfig(
                port, host, newRun, parameters, maxParameters, summarySeconds, updateRatioEvery, policy,
                onNonfinite, maxConsecutiveSkips, failOnMaxSkips, detector, configFile, log, logMaxBytes,
                pushgateway, pushIntervalSeconds, authFile, tlsKeystore, tlsPasswordEnv);
    }
}
