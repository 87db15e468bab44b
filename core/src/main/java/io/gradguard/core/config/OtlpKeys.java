package io.gradguard.core.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code otlp.} keys: export of the metrics to an OpenTelemetry receiver over OTLP/HTTP, with
 * the checks of the settings that only make sense together.
 */
public final class OtlpKeys {

    /** OTLP/HTTP metrics receiver. */
    public static final ConfigKey<String> ENDPOINT = ConfigKey.optional(
                    "otlp.endpoint",
                    NetworkValueTypes.httpUrl("/v1/metrics", "http://collector:4318/v1/metrics"),
                    "(off)",
                    "send the metrics to this OTLP/HTTP receiver (protobuf), e.g. an OpenTelemetry Collector's"
                            + " http://collector:4318/v1/metrics")
            .in(Part.OTLP);
    /** Headers of every OTLP request, as written in the configuration. */
    public static final ConfigKey<Map<String, String>> HEADERS = ConfigKey.optional(
                    "otlp.headers",
                    NetworkValueTypes.httpHeaders(),
                    "(none)",
                    "HTTP headers sent with every OTLP export, e.g. X-Scope-OrgID=tenant-1 (no secrets: see otlp.headers_env)")
            .in(Part.OTLP);
    /** The environment variable holding further (secret) OTLP headers. */
    public static final ConfigKey<String> HEADERS_ENV = ConfigKey.optional(
                    "otlp.headers_env",
                    TextValueTypes.environmentName(),
                    "(none)",
                    "variable holding more OTLP headers in the same form, for secrets such as Authorization=Bearer ...")
            .in(Part.OTLP);
    /** OTLP export interval. */
    public static final ConfigKey<Integer> INTERVAL = ConfigKey.of(
                    "otlp.interval",
                    ValueTypes.integer(1, 86_400, "seconds"),
                    15,
                    "seconds between OTLP exports; the last step is also sent at exit")
            .in(Part.OTLP);

    /** Export to an OpenTelemetry receiver. */
    public static final List<ConfigKey<?>> KEYS = List.of(ENDPOINT, HEADERS, HEADERS_ENV, INTERVAL);

    /** Header names that usually carry a credential, which a command line shows to anyone. */
    private static final Pattern SECRET_HEADER = Pattern.compile("(?i)authorization|.*(token|secret|key|password).*");

    private OtlpKeys() {}

    /**
     * Every header of the OTLP requests: {@code otlp.headers}, then those of the variable named by
     * {@code otlp.headers_env}, read now.
     *
     * @param config the configuration
     * @param environment the process environment
     * @return the headers in order; empty when none are set
     * @throws ConfigException when the variable is not set, does not hold headers, or repeats one
     *     of {@code otlp.headers}; the message never shows a header's value
     */
    public static Map<String, String> headers(GradGuardConfig config, Map<String, String> environment) {
        Map<String, String> headers = new LinkedHashMap<>();
        Map<String, String> written = config.get(HEADERS);
        if (written != null) {
            headers.putAll(written);
        }
        String variable = config.get(HEADERS_ENV);
        if (variable == null) {
            return Collections.unmodifiableMap(headers);
        }
        RawValue setting = new RawValue(HEADERS_ENV.name(), variable, config.origin(HEADERS_ENV));
        String text = environment.get(variable);
        if (text == null) {
            throw Values.invalid(
                    setting,
                    "names an environment variable that is not set; export it with the headers, e.g. Authorization=Bearer ...");
        }
        Map<String, String> secret = Values.headers(
                new RawValue(HEADERS_ENV.name() + " variable " + variable, text, config.origin(HEADERS_ENV)));
        for (Map.Entry<String, String> h : secret.entrySet()) {
            boolean twice = headers.keySet().stream().anyMatch(n -> n.equalsIgnoreCase(h.getKey()));
            if (twice) {
                throw Values.invalid(setting, "holds header " + h.getKey() + ", which otlp.headers sets too; keep one");
            }
            headers.put(h.getKey(), h.getValue());
        }
        return Collections.unmodifiableMap(headers);
    }

    /**
     * The OTLP settings that only make sense together, checked at load: a problem switches off the
     * OTLP export only. Warnings: headers that look like credentials written where a command line
     * shows them, and OTLP settings without an endpoint.
     */
    static List<ConfigProblem> problems(GradGuardConfig config, Map<String, String> environment) {
        List<ConfigProblem> found = new ArrayList<>();
        if (config.get(ENDPOINT) == null) {
            for (ConfigKey<?> key : List.of(HEADERS, HEADERS_ENV, INTERVAL)) {
                if (config.isSet(key)) {
                    found.add(ConfigProblem.warning(
                            key.name(),
                            new ConfigException(key.name() + " is set (" + config.origin(key)
                                            + ") but otlp.endpoint is not: nothing is sent over OTLP")
                                    .getMessage(),
                            Part.OTLP));
                }
            }
            return found;
        }
        Map<String, String> written = config.get(HEADERS);
        String origin = config.origin(HEADERS);
        if (written != null && (origin.equals("agent args") || origin.startsWith("system property"))) {
            written.keySet().stream()
                    .filter(n -> SECRET_HEADER.matcher(n).matches())
                    .findFirst()
                    .ifPresent(n -> found.add(ConfigProblem.warning(
                            HEADERS.name(),
                            new ConfigException(
                                            "otlp.headers sets " + n
                                                    + " (" + origin
                                                    + "), which looks like a credential and shows in the"
                                                    + " process list; put it in an environment variable named by otlp.headers_env")
                                    .getMessage(),
                            Part.OTLP)));
        }
        try {
            headers(config, environment);
        } catch (ConfigException e) {
            found.add(ConfigProblem.of(e, HEADERS_ENV.name(), Part.OTLP));
        }
        return found;
    }
}
