package io.gradguard.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The agent's own configuration keys. Policies and the detector declare theirs next to their code;
 * {@code GradGuardSchema} puts them all together.
 */
public final class Keys {

    /** The value of {@link #PORT} that means {@code port=auto}: 9404, or the next free port. */
    public static final int AUTO_PORT = -1;

    /** The YAML file. */
    public static final ConfigKey<Path> CONFIG = ConfigKey.optional(
                    "config",
                    LocationValueTypes.path("path of a YAML file"),
                    "(none)",
                    "file with any of these keys as a nested mapping; re-read when it changes (policy hot reload)")
            .in(Part.PROTECTION);
    /** Scrape endpoint port. */
    public static final ConfigKey<Integer> PORT = ConfigKey.of(
                    "port",
                    NetworkValueTypes.port(AUTO_PORT, "9404 or the next free port"),
                    9404,
                    "port of the Prometheus scrape endpoint and the live page; 0 = no endpoint")
            .in(Part.ENDPOINT);
    /** Bind address. */
    public static final ConfigKey<String> HOST = ConfigKey.of(
                    "host", NetworkValueTypes.host(), "127.0.0.1", "address the scrape endpoint binds")
            .in(Part.ENDPOINT);
    /** DNS-rebinding protection of the endpoint. */
    public static final ConfigKey<Boolean> HOST_CHECK = ConfigKey.of(
                    "host_check",
                    ValueTypes.bool(),
                    true,
                    "answer only requests whose Host header names this endpoint (a loopback name, host, or one of this"
                            + " machine's addresses, with the port), so a web page cannot read it by DNS rebinding;"
                            + " false = any Host")
            .in(Part.ENDPOINT);
    /** The run label; the default is generated at start. */
    public static final ConfigKey<String> RUN = ConfigKey.of(
                    "run", TextValueTypes.text(128, "1..128 characters"), "", "value of the run label on every series")
            .withDefaultText("run-<yyyyMMdd-HHmmss>-<4 hex>");
    /** Allow-list of per-parameter series. */
    public static final ConfigKey<Pattern> PARAMETERS = ConfigKey.of(
            "parameters",
            TextValueTypes.regex(),
            Pattern.compile(".*"),
            "allow-list of parameter names that get per-parameter series");
    /** Cap of per-parameter series. */
    public static final ConfigKey<Integer> MAX_PARAMETERS = ConfigKey.of(
            "max_parameters",
            ValueTypes.integer(0, Integer.MAX_VALUE, null),
            500,
            "cap on parameters with per-parameter series");
    /** Console summary interval. */
    public static final ConfigKey<Integer> SUMMARY = ConfigKey.of(
            "summary",
            ValueTypes.integer(0, Integer.MAX_VALUE, "seconds"),
            10,
            "seconds between console summary lines; 0 = off");
    /** Sampling of weight norms and update ratios. */
    public static final ConfigKey<Integer> UPDATE_RATIO_EVERY = ConfigKey.of(
            "update_ratio_every",
            ValueTypes.integer(0, Integer.MAX_VALUE, null),
            100,
            "weight norms, update ratios and max |g| every N steps (max |g| every step for value and norm_type inf;"
                    + " every 100 when 0); 0 = never");
    /** What to do with NaN/Inf gradients. */
    public static final ConfigKey<NonFiniteAction> ON_NONFINITE = ConfigKey.of(
                    "on_nonfinite",
                    ValueTypes.enumeration(NonFiniteAction.class, "an on_nonfinite action"),
                    NonFiniteAction.SKIP,
                    "step with NaN/Inf gradients: skip the update, zero them, do nothing, or fail the job")
            .in(Part.PROTECTION);
    /** Skip streak limit. */
    public static final ConfigKey<Integer> MAX_CONSECUTIVE_SKIPS = ConfigKey.of(
                    "max_consecutive_skips",
                    ValueTypes.integer(0, Integer.MAX_VALUE, null),
                    0,
                    "after this many skipped steps in a row, log loudly; 0 = no limit")
            .in(Part.PROTECTION);
    /** Whether the skip streak limit fails the job. */
    public static final ConfigKey<Boolean> FAIL_ON_MAX_SKIPS = ConfigKey.of(
                    "fail_on_max_skips",
                    ValueTypes.bool(),
                    false,
                    "whether reaching max_consecutive_skips also fails the job")
            .in(Part.PROTECTION);
    /** Whether an unprotected job that asked for protection fails. */
    public static final ConfigKey<Boolean> FAIL_IF_UNPROTECTED = ConfigKey.of(
                    "fail_if_unprotected",
                    ValueTypes.bool(),
                    false,
                    "fail the job at its first step when a protection setting could not be used")
            .in(Part.PROTECTION);
    /** The step log. */
    public static final ConfigKey<Path> LOG = ConfigKey.optional(
                    "log",
                    LocationValueTypes.path("path of a file"),
                    "(off)",
                    "JSON Lines log with one record per step")
            .in(Part.STEP_LOG);
    /** Step log rotation size. */
    public static final ConfigKey<Long> LOG_MAX_BYTES = ConfigKey.of(
                    "log_max_bytes", ValueTypes.bytes(1024), 64L << 20, "size at which the step log is rotated")
            .in(Part.STEP_LOG);
    /** Whether the step log follows a symbolic link. */
    public static final ConfigKey<Boolean> LOG_FOLLOW_SYMLINKS = ConfigKey.of(
                    "log_follow_symlinks",
                    ValueTypes.bool(),
                    false,
                    "whether log may name a symbolic link (off: a link planted in a shared directory cannot redirect"
                            + " the job's writes)")
            .in(Part.STEP_LOG);
    /** Pushgateway address. */
    public static final ConfigKey<String> PUSHGATEWAY = ConfigKey.optional(
                    "pushgateway",
                    NetworkValueTypes.hostAndPort(),
                    "(off)",
                    "push metrics to this Prometheus Pushgateway as well")
            .in(Part.PUSH);
    /** Push interval. */
    public static final ConfigKey<Integer> PUSH_INTERVAL = ConfigKey.of(
                    "push_interval", ValueTypes.integer(1, 86_400, "seconds"), 15, "seconds between pushes")
            .in(Part.PUSH);
    /** Whether the run's group is deleted from the Pushgateway at exit. */
    public static final ConfigKey<Boolean> PUSH_DELETE_ON_EXIT = ConfigKey.of(
                    "push_delete_on_exit",
                    ValueTypes.bool(),
                    true,
                    "at the JVM's orderly exit, delete this process's group from the Pushgateway instead of a final push,"
                            + " so a finished run does not look stalled; false = keep the last values there")
            .in(Part.PUSH);
    /** Basic auth credentials file. */
    public static final ConfigKey<Path> AUTH_FILE = ConfigKey.optional(
                    "auth_file",
                    LocationValueTypes.path("path of a readable file"),
                    "(no auth)",
                    "file holding user:password; the endpoint then asks for HTTP basic auth")
            .in(Part.ENDPOINT);
    /** TLS keystore. */
    public static final ConfigKey<Path> TLS_KEYSTORE = ConfigKey.optional(
                    "tls_keystore",
                    LocationValueTypes.path("path of a readable PKCS12 file"),
                    "(plain HTTP)",
                    "serve the endpoint over HTTPS with this keystore")
            .in(Part.ENDPOINT);
    /** The environment variable holding the keystore password. */
    public static final ConfigKey<String> TLS_PASSWORD_ENV = ConfigKey.optional(
                    "tls_password_env",
                    TextValueTypes.environmentName(),
                    "(none)",
                    "variable holding the keystore password (never pass secrets as arguments)")
            .in(Part.ENDPOINT);

    /** Directory of the flight recorder's incident files. */
    public static final ConfigKey<Optional<Path>> INCIDENTS_DIR = ConfigKey.of(
                    "incidents.dir",
                    LocationValueTypes.pathOrOff("path of a directory"),
                    Optional.of(Path.of("./gradguard-incidents")),
                    "flight recorder: directory of the incident files (one JSON file per incident); off = none")
            .in(Part.INCIDENTS);
    /** Steps the flight recorder keeps. */
    public static final ConfigKey<Integer> INCIDENTS_STEPS = ConfigKey.of(
                    "incidents.steps",
                    ValueTypes.integer(1, 1024, null),
                    64,
                    "flight recorder: last steps kept (every parameter's norm) and written with an incident")
            .in(Part.INCIDENTS);
    /** Shadow evaluation of the norm-based policies. */
    public static final ConfigKey<Boolean> SHADOW_POLICIES = ConfigKey.of(
            "shadow_policies",
            ValueTypes.bool(),
            true,
            "evaluate global-norm, percentile, zscore and auto beside the active policy, without acting"
                    + " (gradguard_shadow_clip_*)");

    /** Where the configuration comes from and what is measured. */
    public static final List<ConfigKey<?>> GENERAL = List.of(
            CONFIG,
            PORT,
            HOST,
            HOST_CHECK,
            RUN,
            PARAMETERS,
            MAX_PARAMETERS,
            SUMMARY,
            UPDATE_RATIO_EVERY,
            SHADOW_POLICIES);
    /** What happens to bad steps, beside the clipping policy. */
    public static final List<ConfigKey<?>> PROTECTION =
            List.of(ON_NONFINITE, MAX_CONSECUTIVE_SKIPS, FAIL_ON_MAX_SKIPS, FAIL_IF_UNPROTECTED);
    /** Where the figures go. */
    public static final List<ConfigKey<?>> OUTPUTS = List.of(
            LOG,
            LOG_MAX_BYTES,
            LOG_FOLLOW_SYMLINKS,
            PUSHGATEWAY,
            PUSH_INTERVAL,
            PUSH_DELETE_ON_EXIT,
            AUTH_FILE,
            TLS_KEYSTORE,
            TLS_PASSWORD_ENV);

    /** The flight recorder. */
    public static final List<ConfigKey<?>> INCIDENTS = List.of(INCIDENTS_DIR, INCIDENTS_STEPS);

    private Keys() {}

    /**
     * The endpoint's files and password variable, checked at load: a problem switches off the
     * endpoint only (never an open endpoint instead of a protected one).
     */
    static List<ConfigProblem> endpointProblems(GradGuardConfig config, java.util.Map<String, String> environment) {
        List<ConfigProblem> found = new java.util.ArrayList<>();
        for (ConfigKey<Path> key : List.of(AUTH_FILE, TLS_KEYSTORE)) {
            Path file = config.get(key);
            if (file != null && !java.nio.file.Files.isReadable(file)) {
                found.add(endpointProblem(config, key, "is not a readable file; check the path and its permissions"));
            }
        }
        String variable = config.get(TLS_PASSWORD_ENV);
        if (config.get(TLS_KEYSTORE) != null) {
            if (variable == null) {
                found.add(endpointProblem(
                        config,
                        TLS_KEYSTORE,
                        "needs tls_password_env, the name of the environment variable that holds its password"));
            } else if (environment.get(variable) == null) {
                found.add(endpointProblem(
                        config,
                        TLS_PASSWORD_ENV,
                        "names an environment variable that is not set; export it with the keystore password"));
            }
        }
        return found;
    }

    private static ConfigProblem endpointProblem(GradGuardConfig config, ConfigKey<?> key, String problem) {
        RawValue raw = new RawValue(key.name(), String.valueOf(config.get(key)), config.origin(key));
        return new ConfigProblem(key.name(), Values.invalid(raw, problem).getMessage(), key.part());
    }
}
