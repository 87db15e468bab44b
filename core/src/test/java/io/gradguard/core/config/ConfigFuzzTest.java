package io.gradguard.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.gradguard.core.guard.GradGuardSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded fuzzing: whatever the user writes, the loader answers with a config or with a one-line
 * {@code gradguard:} message, never with another exception that would kill the agent's premain.
 */
class ConfigFuzzTest {

    private static final long SEED = 0x6772616447L;
    private static final int CASES = 3000;

    private static final String VALID_YAML = """
            port: 9404
            host: 127.0.0.1
            run: my-run
            parameters: ".*"
            max_parameters: 500
            summary: 10
            policy:
              type: global-norm
              max_norm: 1.0
              norm_type: 2
              clip_value: 1.0
              lambda: 0.01
              percentile: 10
              history: 1000
              z_threshold: 2.5
              alpha: 0.97
              warmup_steps: 25
            on_nonfinite: skip
            max_consecutive_skips: 0
            detector:
              spike_z: 6.0
              vanishing_threshold: 1.0e-7
              vanishing_steps: 100
            """;

    private static final List<String> VALUES = List.of(
            "",
            " ",
            "0",
            "1",
            "-1",
            "0.5",
            "1e3",
            "1e999",
            "-1e999",
            "99999999999999999999999",
            "NaN",
            "Infinity",
            "inf",
            ".inf",
            "2",
            "auto",
            "true",
            "no",
            "off",
            "~",
            "null",
            "global-norm",
            "zscore",
            "agc",
            "skip",
            "fail",
            "'a,b'",
            "\"x\"",
            "'",
            "\"",
            "[",
            "]",
            "{",
            "}",
            ".*",
            "(",
            "a{1,3}",
            "64MiB",
            "7KiB",
            "pg:9091",
            "http://x:1",
            "h\u00e9llo",
            "\u65e5\u672c",
            "\ud83d\ude80",
            "\u0000",
            "\n",
            "\r\n",
            "\u2028",
            "=",
            ",",
            "0x10",
            "1_000",
            "--",
            "\t",
            "/tmp",
            "ENV_NAME",
            "9".repeat(400));

    @TempDir
    Path dir;

    private int accepted;
    private int rejected;

    @Test
    void randomAgentArgsGiveAConfigOrAOneLineGradguardMessage() {
        Random random = new Random(SEED);
        List<String> keys =
                GradGuardSchema.SCHEMA.keys().stream().map(ConfigKey::name).toList();
        for (int i = 0; i < CASES; i++) {
            StringBuilder args = new StringBuilder();
            int pairs = random.nextInt(5);
            for (int p = 0; p < pairs; p++) {
                if (p > 0) {
                    args.append(random.nextInt(10) == 0 ? ",," : ",");
                }
                String key = random.nextInt(8) == 0 ? mutate(random, pick(random, keys)) : pick(random, keys);
                if (key.equals("config")) {
                    key = "run"; // config files are fuzzed below
                }
                args.append(key);
                if (random.nextInt(20) != 0) {
                    args.append('=');
                }
                args.append(random.nextInt(4) == 0 ? garbage(random, 12) : pick(random, VALUES));
            }
            String text = random.nextInt(10) == 0 ? garbage(random, 40) : args.toString();
            Map<String, String> props =
                    random.nextInt(5) == 0 ? Map.of("gradguard." + pick(random, keys), pick(random, VALUES)) : Map.of();
            Map<String, String> env = random.nextInt(5) == 0
                    ? Map.of("GRADGUARD_" + pick(random, keys).toUpperCase().replace('.', '_'), pick(random, VALUES))
                    : Map.of();
            check("args #" + i + " " + text, () -> GradGuardSchema.load(text, props, env));
        }
        System.out.printf(
                "ConfigFuzzTest agent args: %d cases, %d accepted, %d rejected with a one-line message%n",
                CASES, accepted, rejected);
        assertEquals(CASES, accepted + rejected);
        assertTrue(accepted > CASES / 20, "the generator should also produce valid configs: " + accepted);
    }

    @Test
    void randomYamlDocumentsGiveAConfigOrAOneLineGradguardMessage() throws IOException {
        Random random = new Random(SEED + 1);
        ConfigSources noOverrides = ConfigSources.of(GradGuardSchema.SCHEMA, null, Map.of(), Map.of());
        for (int i = 0; i < CASES; i++) {
            String yaml = switch (random.nextInt(8)) {
                case 0, 1, 2 -> mutateYaml(random, VALID_YAML);
                case 3 -> garbage(random, 200);
                case 4 -> deepNesting(random);
                case 5 -> VALID_YAML.replace("1.0", pick(random, VALUES)).replace("skip", pick(random, VALUES));
                case 6 ->
                    VALID_YAML
                            + pick(
                                    random,
                                    List.of(
                                            "port: 1\n",
                                            "policy:\n  type: agc\n",
                                            "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: [*c, *c, *c, *c]\n",
                                            "? [complex, key]\n: 1\n",
                                            "<<: {port: 1}\n",
                                            "!!binary port: 1\n",
                                            "---\nport: 2\n"));
                default ->
                    "policy:\n  " + pick(random, List.of("type", "max_norm", "alpha", "history", "norm_type")) + ": "
                            + pick(random, VALUES) + "\n";
            };
            if (i % 10 == 0) {
                // Through a real file: exercises reading, UTF-8 decoding and the byte-level path.
                Path file = dir.resolve("f" + i + ".yml");
                byte[] bytes = yaml.getBytes(StandardCharsets.UTF_8);
                if (random.nextInt(4) == 0 && bytes.length > 0) {
                    bytes[random.nextInt(bytes.length)] = (byte) (0x80 + random.nextInt(0x80));
                }
                Files.write(file, bytes);
                check("yaml file #" + i, () -> GradGuardSchema.load("config=" + file, Map.of(), Map.of()));
            } else {
                check(
                        "yaml #" + i + "\n" + yaml,
                        () -> ConfigLoader.merge(
                                GradGuardSchema.SCHEMA,
                                noOverrides,
                                YamlConfigFile.parse(GradGuardSchema.SCHEMA, yaml, "fuzz.yml"),
                                null,
                                "run-fuzz",
                                true,
                                List.of()));
            }
        }
        System.out.printf(
                "ConfigFuzzTest YAML: %d cases, %d accepted, %d rejected with a one-line message%n",
                CASES, accepted, rejected);
        assertEquals(CASES, accepted + rejected);
        assertTrue(accepted > CASES / 20, "the generator should also produce valid configs: " + accepted);
    }

    private void check(String description, Supplier<GradGuardConfig> load) {
        try {
            GradGuardConfig config = load.get();
            assertTrue(
                    config.get(io.gradguard.core.policy.ClipPolicies.TYPE) != null && config.run() != null,
                    description);
            accepted++;
        } catch (ConfigException e) {
            String message = e.getMessage();
            assertTrue(message.startsWith("gradguard: "), () -> description + " -> " + message);
            assertFalse(message.contains("\n") || message.contains("\r"), () -> description + " -> " + message);
            rejected++;
        } catch (Throwable t) {
            fail(description + " threw " + t, t);
        }
    }

    private static String pick(Random random, List<String> list) {
        return list.get(random.nextInt(list.size()));
    }

    private static String garbage(Random random, int maxLength) {
        String alphabet = "abcxyz_.-=,:'\"{}[]#&*!|>%@`\\ \t\n\r0123456789\u00e9\u65e5\ud83d\ude80\u0000\u2028";
        int length = random.nextInt(maxLength + 1);
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            out.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return out.toString();
    }

    private static String mutate(Random random, String text) {
        StringBuilder out = new StringBuilder(text);
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && out.length() > 0; e++) {
            int at = random.nextInt(out.length());
            switch (random.nextInt(3)) {
                case 0 -> out.deleteCharAt(at);
                case 1 -> out.insert(at, garbage(random, 2));
                default -> {
                    String one = garbage(random, 1);
                    out.setCharAt(at, one.isEmpty() ? 'x' : one.charAt(0));
                }
            }
        }
        return out.toString();
    }

    private static String mutateYaml(Random random, String yaml) {
        List<String> lines = new java.util.ArrayList<>(List.of(yaml.split("\n")));
        int edits = random.nextInt(4);
        for (int e = 0; e < edits; e++) {
            int at = random.nextInt(lines.size());
            switch (random.nextInt(5)) {
                case 0 -> lines.remove(at); // may orphan nested keys
                case 1 -> lines.add(at, lines.get(random.nextInt(lines.size()))); // duplicate keys
                case 2 -> lines.set(at, mutate(random, lines.get(at)));
                case 3 -> lines.set(at, lines.get(at).replaceFirst(":.*", ": " + pick(random, VALUES)));
                default -> lines.set(at, " " + lines.get(at)); // indentation damage
            }
            if (lines.isEmpty()) {
                break;
            }
        }
        return String.join("\n", lines) + "\n";
    }

    private static String deepNesting(Random random) {
        int depth = 1 + random.nextInt(200);
        return switch (random.nextInt(3)) {
            case 0 -> "policy: " + "[".repeat(depth) + "]".repeat(depth) + "\n";
            case 1 -> "{a: ".repeat(depth) + "1" + "}".repeat(depth) + "\n";
            default -> {
                StringBuilder out = new StringBuilder();
                for (int d = 0; d < depth; d++) {
                    out.append("  ".repeat(d)).append("policy:\n");
                }
                yield out.toString();
            }
        };
    }
}
