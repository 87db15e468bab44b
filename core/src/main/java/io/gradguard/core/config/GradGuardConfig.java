package io.gradguard.core.config;

import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The agent's whole, validated configuration. Built by {@link ConfigLoader} from agent args,
 * {@code gradguard.<key>} system properties, {@code GRADGUARD_<KEY>} environment variables and the
 * YAML file, in that order of precedence.
 *
 * @param port scrape endpoint port; 0 = no endpoint (default 9404)
 * @param host address the endpoint binds (default 127.0.0.1)
 * @param run value of the {@code run} label (default: generated)
 * @param parameters allow-list regex for per-parameter series (default {@code .*})
 * @param maxParameters cap on parameters with per-parameter series (default 500)
 * @param summarySeconds seconds between console summary lines; 0 = off (default 10)
 * @param updateRatioEvery measure weight norms and update ratios every N steps; 0 = never (1)
 * @param policy the clipping policy
 * @param onNonfinite what to do with a step whose gradients are not finite (default skip)
 * @param maxConsecutiveSkips after this many skipped steps in a row, log loudly; 0 = no limit
 * @param failOnMaxSkips whether reaching {@code maxConsecutiveSkips} also fails the job (false)
 * @param detector spike / vanishing detector settings
 * @param configFile the YAML file named by {@code config}, watched for edits; null if none
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
        Path configFile) {}
