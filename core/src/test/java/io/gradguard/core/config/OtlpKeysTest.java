package io.gradguard.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.guard.GradGuardSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OtlpKeysTest {

    @TempDir
    Path dir;

    private static GradGuardConfig start(String agentArgs, Map<String, String> environment) {
        return ConfigLoader.loadForStart(
                GradGuardSchema.SCHEMA, ConfigSources.of(GradGuardSchema.SCHEMA, agentArgs, Map.of(), environment));
    }

    private static String errorOf(String agentArgs, Map<String, String> environment) {
        return assertThrows(ConfigException.class, () -> GradGuardSchema.load(agentArgs, Map.of(), environment))
                .getMessage();
    }

    @Test
    void offByDefault() {
        GradGuardConfig c = GradGuardSchema.load(null, Map.of(), Map.of());
        assertNull(c.get(OtlpKeys.ENDPOINT));
        assertNull(c.get(OtlpKeys.HEADERS));
        assertNull(c.get(OtlpKeys.HEADERS_ENV));
        assertEquals(15, c.get(OtlpKeys.INTERVAL));
        assertEquals(Map.of(), OtlpKeys.headers(c, Map.of()));
        assertTrue(c.problems().isEmpty(), c.problems().toString());
        String help = GradGuardSchema.SCHEMA.helpText();
        for (ConfigKey<?> key : OtlpKeys.KEYS) {
            assertTrue(help.contains("\n  " + key.name() + " "), key.name());
        }
        assertTrue(help.contains("default: (off)"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        http://collector:4318/v1/metrics       | http://collector:4318/v1/metrics
        http://collector:4318                  | http://collector:4318/v1/metrics
        HTTPS://collector:4318/                | HTTPS://collector:4318/v1/metrics
        http://[::1]:4318?tenant=a             | http://[::1]:4318/v1/metrics?tenant=a
        https://gateway.example/otlp/v1/metrics | https://gateway.example/otlp/v1/metrics
        """)
    void endpointWithoutAPathGetsTheOtlpMetricsPath(String written, String used) {
        assertEquals(
                used,
                GradGuardSchema.load("otlp.endpoint=" + written, Map.of(), Map.of())
                        .get(OtlpKeys.ENDPOINT));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        otlp.endpoint=collector:4318           | gradguard: otlp.endpoint=collector:4318 is not an http:// or https:// URL; use e.g. http://collector:4318/v1/metrics (from agent args)
        otlp.endpoint=grpc://c:4317            | gradguard: otlp.endpoint=grpc://c:4317 is not an http:// or https:// URL; use e.g. http://collector:4318/v1/metrics (from agent args)
        otlp.endpoint=http:///v1/metrics       | gradguard: otlp.endpoint=http:///v1/metrics has no host; use e.g. http://collector:4318/v1/metrics (from agent args)
        otlp.endpoint=http://c:4318/v1 metrics | gradguard: otlp.endpoint=http://c:4318/v1 metrics is not a URL (Illegal character in path); use e.g. http://collector:4318/v1/metrics (from agent args)
        otlp.endpoint=http://c:4318/#x         | gradguard: otlp.endpoint=http://c:4318/#x has a #fragment, which HTTP never sends; drop it (from agent args)
        otlp.interval=0                        | gradguard: otlp.interval=0 is out of range; use integer 1..86400 (seconds) (from agent args)
        otlp.interval=1.5                      | gradguard: otlp.interval=1.5 is not a whole number; use integer 1..86400 (seconds) (from agent args)
        otlp.headers_env=1X                    | gradguard: otlp.headers_env=1X is not an environment variable name; use letters, digits and _ such as KEYSTORE_PASSWORD (from agent args)
        """)
    void rejectsBadValuesWithOneLine(String agentArgs, String expected) {
        assertEquals(expected, errorOf(agentArgs, Map.of()));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        Bearer s3cret                    | has entry 1 that is not Name=value; write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1
        A=1;=s3cret                      | has entry 2 that is not Name=value; write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1
        Bad Name=s3cret                  | has entry 1 whose name is not an HTTP token (letters, digits, - and _); write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1
        X-Empty=                         | has entry 1 (X-Empty) with an empty value; write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1
        Content-Type=text/s3cret         | sets Content-Type, which the exporter sets itself; remove it
        X-A=s3cret;x-a=2                 | names x-a twice; keep one
        ' ; ; '                          | holds no header; write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1
        """)
    void rejectsBadHeadersWithoutShowingTheirValues(String headers, String problem) {
        String message = errorOf("otlp.endpoint=http://c:4318,otlp.headers=" + headers, Map.of());
        assertEquals("gradguard: otlp.headers (value not shown) " + problem + " (from agent args)", message);
        assertFalse(message.contains("s3cret"), message);
    }

    @Test
    void credentialsInTheUrlAreRefusedWithoutBeingShown() {
        String message = errorOf("otlp.endpoint=https://user:s3cret@c:4318/v1/metrics", Map.of());
        assertEquals(
                "gradguard: otlp.endpoint (value not shown) holds a user name or password; send credentials as a"
                        + " header from the environment instead (otlp.headers_env) (from agent args)",
                message);
    }

    @Test
    void headersComeInOrderFromTheSettingThenTheVariable() {
        Map<String, String> env = Map.of("OTLP_AUTH", "Authorization=Bearer abc+/=;X-Other = b ");
        GradGuardConfig c = GradGuardSchema.load(
                "otlp.endpoint=http://c:4318,otlp.headers=X-Scope-OrgID=tenant-1,otlp.headers_env=OTLP_AUTH",
                Map.of(),
                env);
        Map<String, String> headers = OtlpKeys.headers(c, env);
        // values literal: a token's '+', '/' and '=' survive (no URL decoding)
        assertEquals(List.of("X-Scope-OrgID", "Authorization", "X-Other"), List.copyOf(headers.keySet()));
        assertEquals("tenant-1", headers.get("X-Scope-OrgID"));
        assertEquals("Bearer abc+/=", headers.get("Authorization"));
        assertEquals("b", headers.get("X-Other"));
        // OpenTelemetry's own comma-separated form reads the same way
        Map<String, String> otel = Map.of("OTEL_EXPORTER_OTLP_HEADERS", "a=1,b=2");
        GradGuardConfig o = GradGuardSchema.load(
                "otlp.endpoint=http://c:4318,otlp.headers_env=OTEL_EXPORTER_OTLP_HEADERS", Map.of(), otel);
        assertEquals(Map.of("a", "1", "b", "2"), OtlpKeys.headers(o, otel));
    }

    @Test
    void theHeadersVariableMustBeSetAndHoldHeaders() {
        String base = "otlp.endpoint=http://c:4318,otlp.headers_env=OTLP_AUTH";
        assertEquals(
                "gradguard: otlp.headers_env=OTLP_AUTH names an environment variable that is not set; export it"
                        + " with the headers, e.g. Authorization=Bearer ... (from agent args)",
                errorOf(base, Map.of()));
        String bad = errorOf(base, Map.of("OTLP_AUTH", "Bearer s3cret"));
        assertEquals(
                "gradguard: otlp.headers_env variable OTLP_AUTH (value not shown) has entry 1 that is not"
                        + " Name=value; write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1 (from agent args)",
                bad);
        assertEquals(
                "gradguard: otlp.headers_env=OTLP_AUTH holds header x-scope-orgid, which otlp.headers sets too;"
                        + " keep one (from agent args)",
                errorOf(base + ",otlp.headers=X-Scope-OrgID=a", Map.of("OTLP_AUTH", "x-scope-orgid=b")));
        // A variable with the GRADGUARD_ prefix is not taken for a misspelt key.
        Map<String, String> env = Map.of("GRADGUARD_OTLP_TOKEN", "Authorization=Bearer s3cret");
        GradGuardConfig c = GradGuardSchema.load(
                "otlp.endpoint=http://c:4318,otlp.headers_env=GRADGUARD_OTLP_TOKEN", Map.of(), env);
        assertEquals("Bearer s3cret", OtlpKeys.headers(c, env).get("Authorization"));
    }

    @Test
    void anUnusableOtlpSettingSwitchesOffOnlyTheOtlpExport() {
        GradGuardConfig c = start(
                "otlp.endpoint=http://c:4318,otlp.headers_env=MISSING,policy.type=global-norm," + "pushgateway=pg:9091",
                Map.of());
        assertEquals(1, c.problems().size(), c.problems().toString());
        assertEquals(Part.OTLP, c.problems().get(0).part());
        assertTrue(c.unusable(Part.OTLP));
        for (Part other : List.of(Part.PROTECTION, Part.ENDPOINT, Part.PUSH, Part.STEP_LOG)) {
            assertFalse(c.unusable(other), other.name());
        }
        assertEquals("global-norm", c.get(io.gradguard.core.policy.ClipPolicies.TYPE));
        assertEquals("pg:9091", c.pushgateway());
        GradGuardConfig badUrl = start("otlp.endpoint=ftp://c,port=0", Map.of());
        assertTrue(badUrl.unusable(Part.OTLP));
        assertFalse(badUrl.unusable(Part.ENDPOINT));
        assertEquals(0, badUrl.port());
        assertEquals("no OTLP export", Part.OTLP.consequence());
    }

    @Test
    void warnsOfCredentialsOnTheCommandLineAndOfSettingsWithoutAnEndpoint() {
        GradGuardConfig c = start("otlp.endpoint=http://c:4318,otlp.headers=Authorization=Bearer s3cret", Map.of());
        assertFalse(c.unusable(Part.OTLP));
        assertEquals(1, c.problems().size());
        ConfigProblem p = c.problems().get(0);
        assertTrue(p.warning());
        assertEquals(
                "gradguard: otlp.headers sets Authorization (agent args), which looks like a credential and shows"
                        + " in the process list; put it in an environment variable named by otlp.headers_env",
                p.message());
        GradGuardConfig idle = start("otlp.interval=5", Map.of());
        assertEquals(
                List.of("gradguard: otlp.interval is set (agent args) but otlp.endpoint is not: nothing is sent"
                        + " over OTLP"),
                idle.problems().stream().map(ConfigProblem::message).toList());
        assertFalse(idle.unusable(Part.OTLP));
    }

    @Test
    void yamlNestsTheKeysUnderOtlp() throws IOException {
        Path file = dir.resolve("g.yml");
        Files.writeString(
                file, "otlp:\n  endpoint: http://collector:4318\n  interval: 5\n  headers: X-Scope-OrgID=t1\n");
        GradGuardConfig c = GradGuardSchema.load("config=" + file, Map.of(), Map.of());
        assertEquals("http://collector:4318/v1/metrics", c.get(OtlpKeys.ENDPOINT));
        assertEquals(5, c.get(OtlpKeys.INTERVAL));
        assertEquals(Map.of("X-Scope-OrgID", "t1"), c.get(OtlpKeys.HEADERS));
        GradGuardConfig env = GradGuardSchema.load(null, Map.of(), Map.of("GRADGUARD_OTLP_ENDPOINT", "http://e:4318"));
        assertEquals("http://e:4318/v1/metrics", env.get(OtlpKeys.ENDPOINT));
    }
}
