package io.gradguard.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.core.detect.DetectorConfig;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.policy.AdaptiveGradientClip;
import io.gradguard.core.policy.ClipPolicies;
import io.gradguard.core.policy.GlobalNormClip;
import io.gradguard.core.policy.PercentileClip;
import io.gradguard.core.policy.ValueClip;
import io.gradguard.core.policy.ZScoreClip;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigLoaderTest {

    @TempDir
    Path dir;

    private static GradGuardConfig args(String agentArgs) {
        return GradGuardSchema.load(agentArgs, Map.of(), Map.of());
    }

    private static String errorOf(String agentArgs) {
        return assertThrows(ConfigException.class, () -> args(agentArgs)).getMessage();
    }

    private Path yaml(String text) throws IOException {
        Path file = Files.createTempFile(dir, "gradguard", ".yml");
        Files.writeString(file, text, StandardCharsets.UTF_8);
        return file;
    }

    private String yamlErrorOf(String text) throws IOException {
        Path file = yaml(text);
        return assertThrows(ConfigException.class, () -> args("config=" + file)).getMessage();
    }

    @Test
    void defaultsMatchTheConventions() {
        GradGuardConfig c = GradGuardSchema.load(null, Map.of(), Map.of());
        assertEquals(9404, c.port());
        assertEquals("127.0.0.1", c.host());
        assertTrue(c.run().matches("run-\\d{8}-\\d{6}-[0-9a-f]{4}"), c.run());
        assertEquals(".*", c.parameters().pattern());
        assertEquals(500, c.maxParameters());
        assertEquals(10, c.summarySeconds());
        assertEquals(100, c.updateRatioEvery());
        // the figures of CONVENTIONS.md, written out: the code's declarations must match them
        assertEquals("none", c.get(ClipPolicies.TYPE));
        assertEquals(1.0, c.get(GlobalNormClip.MAX_NORM));
        assertEquals(2.0, c.get(GlobalNormClip.NORM_TYPE));
        assertEquals(1.0, c.get(ValueClip.CLIP_VALUE));
        assertEquals(0.01, c.get(AdaptiveGradientClip.LAMBDA));
        assertEquals(10.0, c.get(PercentileClip.PERCENTILE));
        assertEquals(1000, c.get(PercentileClip.HISTORY));
        assertEquals(2.5, c.get(ZScoreClip.Z_THRESHOLD));
        assertEquals(0.97, c.get(ZScoreClip.ALPHA));
        assertEquals(25, c.get(ZScoreClip.WARMUP_STEPS));
        assertEquals(NonFiniteAction.SKIP, c.onNonfinite());
        assertEquals(0, c.maxConsecutiveSkips());
        assertFalse(c.failOnMaxSkips());
        assertEquals(new DetectorConfig(6.0, 1e-7, 100, 0.97, 25), DetectorConfig.from(c));
        assertNull(c.configFile());
        assertNull(c.log());
        assertEquals(64L * 1024 * 1024, c.logMaxBytes());
        assertNull(c.pushgateway());
        assertEquals(15, c.pushIntervalSeconds());
        assertNull(c.authFile());
        assertNull(c.tlsKeystore());
        assertNull(c.tlsPasswordEnv());
    }

    @Test
    void parsesEveryKeyFromAgentArgs() throws IOException {
        Path auth = yaml("user:secret");
        Path keystore = yaml("not really pkcs12, only readability is checked here");
        GradGuardConfig c = GradGuardSchema.load(
                "port=auto,host=0.0.0.0,run=exp-7,parameters='^(conv|dense){1,3}_weight$',max_parameters=20,"
                        + "summary=0,update_ratio_every=5,policy.type=global-norm,policy.max_norm=0.5,"
                        + "policy.norm_type=inf,policy.clip_value=0.25,policy.lambda=0.02,policy.percentile=90,"
                        + "policy.history=200,policy.z_threshold=3,policy.alpha=0.9,policy.warmup_steps=10,"
                        + "on_nonfinite=zero,max_consecutive_skips=3,fail_on_max_skips=true,detector.spike_z=4.5,"
                        + "detector.vanishing_threshold=1e-9,detector.vanishing_steps=7,log=/tmp/steps.jsonl,"
                        + "log_max_bytes=2MiB,pushgateway=pg.local:9091,push_interval=30,auth_file=" + auth
                        + ",tls_keystore=" + keystore + ",tls_password_env=KS_PASS",
                Map.of(),
                Map.of("KS_PASS", "x"));
        assertEquals(Keys.AUTO_PORT, c.port());
        assertEquals("0.0.0.0", c.host());
        assertEquals("exp-7", c.run());
        assertTrue(c.parameters().matcher("convconv_weight").matches());
        assertEquals(20, c.maxParameters());
        assertEquals(0, c.summarySeconds());
        assertEquals(5, c.updateRatioEvery());
        assertEquals("global-norm", c.get(ClipPolicies.TYPE));
        assertEquals(0.5, c.get(GlobalNormClip.MAX_NORM));
        assertEquals(Double.POSITIVE_INFINITY, c.get(GlobalNormClip.NORM_TYPE));
        assertEquals(0.25, c.get(ValueClip.CLIP_VALUE));
        assertEquals(0.02, c.get(AdaptiveGradientClip.LAMBDA));
        assertEquals(90.0, c.get(PercentileClip.PERCENTILE));
        assertEquals(200, c.get(PercentileClip.HISTORY));
        assertEquals(3.0, c.get(ZScoreClip.Z_THRESHOLD));
        assertEquals(0.9, c.get(ZScoreClip.ALPHA));
        assertEquals(10, c.get(ZScoreClip.WARMUP_STEPS));
        assertEquals(NonFiniteAction.ZERO, c.onNonfinite());
        assertEquals(3, c.maxConsecutiveSkips());
        assertTrue(c.failOnMaxSkips());
        assertEquals(new DetectorConfig(4.5, 1e-9, 7, 0.97, 25), DetectorConfig.from(c));
        assertEquals(Path.of("/tmp/steps.jsonl"), c.log());
        assertEquals(2L * 1024 * 1024, c.logMaxBytes());
        assertEquals("pg.local:9091", c.pushgateway());
        assertEquals(30, c.pushIntervalSeconds());
        assertEquals(auth, c.authFile());
        assertEquals(keystore, c.tlsKeystore());
        assertEquals("KS_PASS", c.tlsPasswordEnv());
    }

    @Test
    void readsTheNestedYamlFileWithIntAndFloatNumbers() throws IOException {
        Path file = yaml("""
                port: 0
                run: nightly
                policy:
                  type: zscore
                  z_threshold: 3
                  warmup_steps: 50.0
                  history: 1e3
                on_nonfinite: no_such_thing_is_checked_below
                """.replace("on_nonfinite: no_such_thing_is_checked_below\n", "on_nonfinite: fail\n")
                + "detector:\n  vanishing_threshold: 1.0e-8\n");
        GradGuardConfig c = args("config=" + file);
        assertEquals(0, c.port());
        assertEquals("nightly", c.run());
        assertEquals("zscore", c.get(ClipPolicies.TYPE));
        assertFalse(c.isSet(GlobalNormClip.MAX_NORM), "zscore has no cap unless max_norm is set");
        assertEquals(3.0, c.get(ZScoreClip.Z_THRESHOLD));
        assertEquals(50, c.get(ZScoreClip.WARMUP_STEPS));
        assertEquals(1000, c.get(PercentileClip.HISTORY));
        assertEquals(NonFiniteAction.FAIL, c.onNonfinite());
        assertEquals(1e-8, DetectorConfig.from(c).vanishingThreshold());
        assertEquals(file, c.configFile());
    }

    @Test
    void yamlKeepsWordsAsWrittenInsteadOfYaml11Booleans() throws IOException {
        // YAML 1.1 reads a bare "no"/"off" as false; the loader must see the text the user wrote.
        Path file = yaml("on_nonfinite: none\nfail_on_max_skips: yes\nlog: off\npolicy:\n  norm_type: .inf\n");
        GradGuardConfig c = args("config=" + file);
        assertEquals(NonFiniteAction.NONE, c.onNonfinite());
        assertTrue(c.failOnMaxSkips());
        assertNull(c.log());
        assertEquals(Double.POSITIVE_INFINITY, c.get(GlobalNormClip.NORM_TYPE));
    }

    /**
     * Each bit of {@code mask} switches one source on (1 = args, 2 = property, 4 = environment,
     * 8 = file); all 16 combinations cover every pair. The highest source present must win.
     */
    @Test
    void argsBeatPropertyBeatEnvironmentBeatFileBeatDefaultForEveryPair() throws IOException {
        Path file = yaml("policy:\n  max_norm: 0.4\n");
        for (int mask = 0; mask < 16; mask++) {
            StringBuilder agentArgs = new StringBuilder("config=" + file);
            Map<String, String> props = new HashMap<>();
            Map<String, String> env = new HashMap<>();
            if ((mask & 1) != 0) {
                agentArgs.append(",policy.max_norm=0.1");
            }
            if ((mask & 2) != 0) {
                props.put("gradguard.policy.max_norm", "0.2");
            }
            if ((mask & 4) != 0) {
                env.put("GRADGUARD_POLICY_MAX_NORM", "0.3");
            }
            Path used = (mask & 8) != 0 ? file : yaml("run: x\n");
            String a = agentArgs.toString().replace(file.toString(), used.toString());
            double expected =
                    (mask & 1) != 0 ? 0.1 : (mask & 2) != 0 ? 0.2 : (mask & 4) != 0 ? 0.3 : (mask & 8) != 0 ? 0.4 : 1.0;
            assertEquals(expected, GradGuardSchema.load(a, props, env).get(GlobalNormClip.MAX_NORM), "mask " + mask);
        }
    }

    @Test
    void theConfigFileItselfMayComeFromPropertyOrEnvironment() throws IOException {
        Path fromProp = yaml("run: from-prop-file\n");
        Path fromEnv = yaml("run: from-env-file\n");
        assertEquals(
                "from-prop-file",
                GradGuardSchema.load(
                                "",
                                Map.of("gradguard.config", fromProp.toString()),
                                Map.of("GRADGUARD_CONFIG", fromEnv.toString()))
                        .run());
        assertEquals(
                "from-env-file",
                GradGuardSchema.load("", Map.of(), Map.of("GRADGUARD_CONFIG", fromEnv.toString()))
                        .run());
    }

    @Test
    void dashesInKeysMeanUnderscoresAndOtherEnvironmentIsIgnored() {
        GradGuardConfig c = GradGuardSchema.load(
                "policy.max-norm=0.7",
                Map.of("java.version", "17", "gradguard.max-parameters", "3"),
                Map.of("PATH", "/bin", "GRADGUARD_UPDATE_RATIO_EVERY", "4"));
        assertEquals(0.7, c.get(GlobalNormClip.MAX_NORM));
        assertEquals(3, c.maxParameters());
        assertEquals(4, c.updateRatioEvery());
    }

    @Test
    void helpListsEveryKeyWithItsDefault() {
        String help = GradGuardSchema.SCHEMA.helpText();
        for (ConfigKey<?> key : GradGuardSchema.SCHEMA.keys()) {
            assertTrue(help.contains("\n  " + key.name() + " "), "help lacks " + key.name());
        }
        for (String keyInConventions : new String[] {
            "port",
            "host",
            "run",
            "parameters",
            "max_parameters",
            "summary",
            "policy.type",
            "policy.max_norm",
            "policy.norm_type",
            "policy.clip_value",
            "policy.lambda",
            "policy.percentile",
            "policy.history",
            "policy.z_threshold",
            "policy.alpha",
            "policy.warmup_steps",
            "on_nonfinite",
            "max_consecutive_skips",
            "detector.spike_z",
            "detector.vanishing_threshold",
            "detector.vanishing_steps",
            "config",
            "update_ratio_every",
            "fail_on_max_skips",
            "log",
            "log_max_bytes",
            "pushgateway",
            "push_interval",
            "auth_file",
            "tls_keystore",
            "tls_password_env"
        }) {
            assertTrue(GradGuardSchema.SCHEMA.isKey(keyInConventions), keyInConventions);
        }
        assertTrue(help.contains("default: 9404"));
        assertTrue(
                help.contains("accepts: none | value | global-norm | per-parameter-norm | agc | percentile | zscore"));
        assertTrue(help.contains("GRADGUARD_POLICY_MAX_NORM"));
        assertTrue(ConfigLoader.isHelp(" help "));
        assertFalse(ConfigLoader.isHelp("port=1"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        policy.type=glob-norm        | gradguard: policy.type=glob-norm is not a policy; use one of none, value, global-norm, per-parameter-norm, agc, percentile, zscore, auto (from agent args)
        port=65536                   | gradguard: port=65536 is out of range; use 0..65535, or auto (9404 or the next free port) (from agent args)
        port=-1                      | gradguard: port=-1 is out of range; use 0..65535, or auto (9404 or the next free port) (from agent args)
        port=eighty                  | gradguard: port=eighty is not a number; use 0..65535, or auto (9404 or the next free port) (from agent args)
        port=80.5                    | gradguard: port=80.5 is not a whole number; use 0..65535, or auto (9404 or the next free port) (from agent args)
        port=                        | gradguard: port= is empty; use 0..65535, or auto (9404 or the next free port) (from agent args)
        host=a b                     | gradguard: host=a b holds whitespace; use a host name or IP address (from agent args)
        policy.max_norm=0            | gradguard: policy.max_norm=0 must be > 0 (from agent args)
        policy.max_norm=-2           | gradguard: policy.max_norm=-2 must be > 0 (from agent args)
        policy.max_norm=1e999        | gradguard: policy.max_norm=1e999 is too large; use a number > 0 (from agent args)
        policy.max_norm=NaN          | gradguard: policy.max_norm=NaN is not a number; use a number > 0 (from agent args)
        policy.clip_value=0          | gradguard: policy.clip_value=0 must be > 0 (from agent args)
        policy.lambda=-0.01          | gradguard: policy.lambda=-0.01 must be > 0 (from agent args)
        policy.z_threshold=0         | gradguard: policy.z_threshold=0 must be > 0 (from agent args)
        policy.alpha=1               | gradguard: policy.alpha=1 must be in (0, 1), e.g. 0.97 (from agent args)
        policy.alpha=0               | gradguard: policy.alpha=0 must be in (0, 1), e.g. 0.97 (from agent args)
        policy.percentile=0          | gradguard: policy.percentile=0 must be in (0, 100], e.g. 10 (from agent args)
        policy.percentile=100.5      | gradguard: policy.percentile=100.5 must be in (0, 100], e.g. 10 (from agent args)
        policy.history=0             | gradguard: policy.history=0 is out of range; use integer 1..1000000 (from agent args)
        policy.warmup_steps=0        | gradguard: policy.warmup_steps=0 is out of range; use integer >= 1 (from agent args)
        policy.norm_type=1           | gradguard: policy.norm_type=1 is not a supported norm; use 2 or inf (from agent args)
        parameters='(conv'           | gradguard: parameters=(conv is not a valid regular expression (Unclosed group at index 5); fix it or quote the value in agent args if it holds a comma
        max_parameters=-1            | gradguard: max_parameters=-1 is out of range; use integer >= 0 (from agent args)
        summary=2.5                  | gradguard: summary=2.5 is not a whole number; use integer >= 0 (seconds) (from agent args)
        update_ratio_every=-3        | gradguard: update_ratio_every=-3 is out of range; use integer >= 0 (from agent args)
        on_nonfinite=ignore          | gradguard: on_nonfinite=ignore is not an on_nonfinite action; use one of skip, zero, none, fail (from agent args)
        max_consecutive_skips=x      | gradguard: max_consecutive_skips=x is not a number; use integer >= 0 (from agent args)
        fail_on_max_skips=maybe      | gradguard: fail_on_max_skips=maybe is not a boolean; use true or false (from agent args)
        detector.spike_z=0           | gradguard: detector.spike_z=0 must be > 0 (from agent args)
        detector.vanishing_threshold=-1e-7 | gradguard: detector.vanishing_threshold=-1e-7 must be >= 0 (from agent args)
        detector.vanishing_steps=0   | gradguard: detector.vanishing_steps=0 is out of range; use integer >= 1 (from agent args)
        log_max_bytes=5XB            | gradguard: log_max_bytes=5XB is not a size; use integer >= 1024, optional suffix KiB | MiB | GiB (from agent args)
        log_max_bytes=10             | gradguard: log_max_bytes=10 is too small; use integer >= 1024, optional suffix KiB | MiB | GiB (from agent args)
        pushgateway=http://pg:9091   | gradguard: pushgateway=http://pg:9091 must be HOST:PORT without a scheme, e.g. pushgateway:9091 (from agent args)
        pushgateway=pg               | gradguard: pushgateway=pg is not HOST:PORT; use e.g. pushgateway:9091 or [::1]:9091 (from agent args)
        pushgateway=pg:0             | gradguard: pushgateway=pg:0 is not HOST:PORT; use e.g. pushgateway:9091 or [::1]:9091 (from agent args)
        push_interval=0              | gradguard: push_interval=0 is out of range; use integer 1..86400 (seconds) (from agent args)
        auth_file=/no/such/file      | gradguard: auth_file=/no/such/file is not a readable file; check the path and its permissions (from agent args)
        tls_keystore=/no/such/ks.p12 | gradguard: tls_keystore=/no/such/ks.p12 is not a readable file; check the path and its permissions (from agent args)
        tls_password_env=1BAD        | gradguard: tls_password_env=1BAD is not an environment variable name; use letters, digits and _ such as KEYSTORE_PASSWORD (from agent args)
        run=                         | gradguard: run= is empty; use 1..128 characters (from agent args)
        policy.maxnorm=1             | gradguard: agent argument policy.maxnorm is not a gradguard key; did you mean policy.max_norm?
        max_norm=1                   | gradguard: agent argument max_norm is not a gradguard key; did you mean policy.max_norm?
        prot=9404                    | gradguard: agent argument prot is not a gradguard key; did you mean port?
        policy.type                  | gradguard: agent argument 'policy.type' is not key=value; write pairs like policy.type=global-norm separated by commas (help alone lists every key)
        port=1;port=2                | gradguard: port=1;port=2 is not a number; use 0..65535, or auto (9404 or the next free port) (from agent args)
        """)
    void rejectsBadValuesWithOneLineNamingKeyValueAndFix(String agentArgs, String expected) {
        // CsvSource trims; the regex case ends without the origin because the csv column cannot hold it
        String message = errorOf(agentArgs);
        assertTrue(message.startsWith(expected), () -> "expected: " + expected + "\n  actual: " + message);
        assertFalse(message.contains("\n"));
    }

    @Test
    void rejectsArgsSyntaxErrors() {
        assertEquals("gradguard: port is given twice in the agent args (1 and 2); keep one", errorOf("port=1,port=2"));
        assertEquals(
                "gradguard: agent argument parameters has an opening ' without a closing one; close the quote",
                errorOf("parameters='a,b"));
        assertEquals("gradguard: agent argument '=1' has no key; write key=value", errorOf("=1"));
        assertEquals(
                "gradguard: agent argument parameters has text after its closing quote; put a comma after the quoted value",
                errorOf("parameters='a'b"));
    }

    @Test
    void rejectsUnknownPropertiesAndEnvironmentWithTheirOwnSpelling() {
        assertEquals(
                "gradguard: system property gradguard.policy.max_nrom is not a gradguard key; did you mean "
                        + "gradguard.policy.max_norm?",
                assertThrows(
                                ConfigException.class,
                                () -> GradGuardSchema.load(null, Map.of("gradguard.policy.max_nrom", "1"), Map.of()))
                        .getMessage());
        assertEquals(
                "gradguard: environment variable GRADGUARD_POLICY_MAXNORM is not a gradguard key; did you mean "
                        + "GRADGUARD_POLICY_MAX_NORM?",
                assertThrows(
                                ConfigException.class,
                                () -> GradGuardSchema.load(null, Map.of(), Map.of("GRADGUARD_POLICY_MAXNORM", "1")))
                        .getMessage());
        assertEquals(
                "gradguard: policy.max_norm=big is not a number; use a number > 0 (from environment "
                        + "GRADGUARD_POLICY_MAX_NORM)",
                assertThrows(
                                ConfigException.class,
                                () -> GradGuardSchema.load(null, Map.of(), Map.of("GRADGUARD_POLICY_MAX_NORM", "big")))
                        .getMessage());
        assertEquals(
                "gradguard: port=x is not a number; use 0..65535, or auto (9404 or the next free port) (from "
                        + "system property gradguard.port)",
                assertThrows(
                                ConfigException.class,
                                () -> GradGuardSchema.load(null, Map.of("gradguard.port", "x"), Map.of()))
                        .getMessage());
    }

    @Test
    void keystorePasswordComesOnlyFromAnEnvironmentVariableThatIsSet() throws IOException {
        Path keystore = yaml("x");
        assertEquals(
                "gradguard: tls_keystore=" + keystore + " needs tls_password_env, the name of the environment "
                        + "variable that holds its password (from agent args)",
                errorOf("tls_keystore=" + keystore));
        assertEquals(
                "gradguard: tls_password_env=KS_PASS names an environment variable that is not set; export it "
                        + "with the keystore password (from agent args)",
                errorOf("tls_keystore=" + keystore + ",tls_password_env=KS_PASS"));
        // The password variable may carry the GRADGUARD_ prefix without being taken for a typo.
        GradGuardConfig c = GradGuardSchema.load(
                "tls_keystore=" + keystore + ",tls_password_env=GRADGUARD_KS", Map.of(), Map.of("GRADGUARD_KS", "pw"));
        assertEquals("GRADGUARD_KS", c.tlsPasswordEnv());
    }

    @Test
    void yamlErrorsNameFileKeyAndLine() throws IOException {
        String e = yamlErrorOf("port: 9404\npolicy:\n  type: global-norm\n  max_norm: -1\n");
        assertTrue(e.matches("gradguard: policy\\.max_norm=-1 must be > 0 \\(from .*\\.yml line 4\\)"), e);
        e = yamlErrorOf("policy:\n  typ: agc\n");
        assertTrue(
                e.matches(
                        "gradguard: policy\\.typ in .*\\.yml line 2 is not a gradguard key; did you mean policy\\.type\\?"),
                e);
        e = yamlErrorOf("polcy:\n  type: agc\n");
        assertTrue(e.matches("gradguard: polcy in .*\\.yml line 1 is not a gradguard key; did you mean policy\\?"), e);
        e = yamlErrorOf("port: [1, 2]\n");
        assertTrue(e.matches("gradguard: port in .*\\.yml line 1 must be a single value, not a list"), e);
        e = yamlErrorOf("policy: global-norm\n");
        assertTrue(
                e.matches("gradguard: policy in .*\\.yml line 1 is a section, not a value; nest its keys under it.*"),
                e);
        e = yamlErrorOf("port: 1\nport: 2\n");
        assertTrue(
                e.matches("gradguard: port in .*\\.yml line 2 is set twice \\(also .*\\.yml line 1\\); keep one"), e);
        e = yamlErrorOf("policy:\n  type: agc\n   lambda: 1\n");
        assertTrue(e.matches("gradguard: .*\\.yml line 3 is not valid YAML: .*; fix the syntax"), e);
        e = yamlErrorOf("- port\n- 9404\n");
        assertTrue(
                e.matches("gradguard: .*\\.yml line 1 must be a mapping of keys such as 'port: 9404', not a list"), e);
        e = yamlErrorOf("config: other.yml\n");
        assertTrue(e.startsWith("gradguard: config in "), e);
        e = assertThrows(ConfigException.class, () -> args("config=" + dir.resolve("missing.yml")))
                .getMessage();
        assertTrue(
                e.matches(
                        "gradguard: config=.*missing\\.yml cannot be read \\(NoSuchFileException\\); check the path and its permissions"),
                e);
        Path latin1 = dir.resolve("latin1.yml");
        Files.write(latin1, new byte[] {'r', 'u', 'n', ':', ' ', (byte) 0xE9});
        e = assertThrows(ConfigException.class, () -> args("config=" + latin1)).getMessage();
        assertTrue(e.endsWith("latin1.yml is not UTF-8 text; save it as UTF-8"), e);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "# only a comment\n", "---\n", "policy:\n"})
    void emptyYamlSetsNothing(String text) throws IOException {
        GradGuardConfig c = args("config=" + yaml(text));
        assertEquals("none", c.get(ClipPolicies.TYPE));
        for (ConfigKey<?> key : GradGuardSchema.SCHEMA.keys()) {
            assertFalse(c.isSet(key), key.name());
        }
    }

    private static GradGuardConfig atStart(String agentArgs, Map<String, String> env) {
        return ConfigLoader.loadForStart(
                GradGuardSchema.SCHEMA, ConfigSources.of(GradGuardSchema.SCHEMA, agentArgs, Map.of(), env));
    }

    @Test
    void atStartAnUnusableSettingSwitchesOffOnlyItsOwnPart() {
        GradGuardConfig typo = atStart("policy.type=glob-norm,port=1234,summary=3", Map.of());
        assertTrue(typo.unusable(Part.PROTECTION));
        assertTrue(typo.protectionAsWrittenFails());
        assertEquals(1234, typo.port(), "the endpoint setting still applies");
        assertEquals(3, typo.summarySeconds());
        assertEquals(1, typo.problems().size());
        assertTrue(typo.problems().get(0).message().startsWith("gradguard: policy.type=glob-norm is not a policy"));

        GradGuardConfig auth = atStart("policy.type=global-norm,auth_file=/no/such/file", Map.of());
        assertTrue(auth.unusable(Part.ENDPOINT));
        assertFalse(auth.unusable(Part.PROTECTION), "a missing auth file leaves clipping on");
        assertFalse(auth.protectionAsWrittenFails());
        assertEquals("global-norm", auth.get(ClipPolicies.TYPE));

        GradGuardConfig stray = atStart("policy.type=value", Map.of("GRADGUARD_HOME", "/opt/gradguard"));
        assertEquals(1, stray.problems().size(), "a stray variable is said");
        for (Part part : Part.values()) {
            assertFalse(stray.unusable(part), "and switches nothing off: " + part);
        }

        GradGuardConfig unknownKey = atStart("policy.type=global-norm,prot=9405", Map.of());
        assertFalse(unknownKey.unusable(Part.PROTECTION), "a typo in an endpoint key leaves clipping on");
        assertTrue(unknownKey.unusable(Part.ENDPOINT));
    }

    @Test
    void aPolicySettingTheChosenPolicyDoesNotReadIsSaidNotSilentlyIgnored() {
        GradGuardConfig c = atStart("policy.max_norm=0.1", Map.of());
        assertEquals("none", c.get(ClipPolicies.TYPE));
        assertTrue(c.protectionAsWrittenFails(), "max_norm without a policy means no clipping: said loudly");
        assertFalse(c.unusable(Part.PROTECTION));
        assertTrue(c.problems().get(0).warning());
        assertTrue(
                c.problems().get(0).message().contains("policy.type is none, which does not read it"),
                c.problems().get(0).message());
        assertEquals(0.1, args("policy.max_norm=0.1").get(GlobalNormClip.MAX_NORM), "a strict load still accepts it");
    }

    @Test
    void aBrokenFileAtStartLeavesTheJobUnprotectedNotUnmonitored() throws IOException {
        GradGuardConfig c =
                atStart("config=" + yaml("policy:\n  type: global-norm\n   max_norm: 1\n") + ",port=0", Map.of());
        assertTrue(c.unusable(Part.PROTECTION));
        assertEquals(0, c.port());
        assertTrue(
                c.problems().get(0).message().contains("is not valid YAML"),
                c.problems().get(0).message());
    }
}
