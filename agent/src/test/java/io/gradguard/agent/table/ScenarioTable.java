package io.gradguard.agent.table;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ./gradguard table}: every scenario of the reference trainer under every policy, each in a
 * child JVM with the seed fixed, printed as the Markdown table of the README (diverged? test
 * accuracy). Arguments: {@code --agent JAR --examples JAR [--steps N]}.
 */
public final class ScenarioTable {

    private static final List<String> SCENARIOS = List.of("healthy", "explode-lr", "explode-init", "explode-rnn", "nan-inject");
    private static final Map<String, String> VARIANTS = new LinkedHashMap<>();

    static {
        VARIANTS.put("no agent", null);
        VARIANTS.put("agent, monitoring only", "policy.type=none");
        VARIANTS.put("global-norm 1.0", "policy.type=global-norm,policy.max_norm=1.0");
        VARIANTS.put("value 0.1", "policy.type=value,policy.clip_value=0.1");
        VARIANTS.put("agc 0.01", "policy.type=agc");
        VARIANTS.put("percentile 10", "policy.type=percentile");
        VARIANTS.put("zscore", "policy.type=zscore");
    }

    private ScenarioTable() {}

    public static void main(String[] args) throws Exception {
        String agent = null;
        String examples = null;
        int steps = 300;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--agent" -> agent = args[++i];
                case "--examples" -> examples = args[++i];
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (use --agent, --examples, --steps)");
            }
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        System.out.printf("Scenario x policy, reference trainer, seed 42, %d optimizer steps (batch 64), test accuracy on"
                + " 1,000 test images; %s, %d cores, 1 PyTorch thread. Cell: test accuracy, or DIVERGED (step).%n%n",
                steps, LocalDate.now(), Runtime.getRuntime().availableProcessors());
        StringBuilder header = new StringBuilder("| scenario |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String v : VARIANTS.keySet()) {
            header.append(' ').append(v).append(" |");
            rule.append("---|");
        }
        System.out.println(header);
        System.out.println(rule);
        for (String scenario : SCENARIOS) {
            StringBuilder row = new StringBuilder("| " + scenario + " |");
            for (Map.Entry<String, String> v : VARIANTS.entrySet()) {
                row.append(' ').append(run(java, agent, examples, scenario, v.getValue(), steps)).append(" |");
            }
            System.out.println(row);
        }
    }

    private static String run(String java, String agent, String examples, String scenario, String policy, int steps)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(java, "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1"));
        if (policy != null) {
            cmd.add("-javaagent:" + agent + "=port=0,summary=0,update_ratio_every=0,incidents.dir=off," + policy);
        }
        cmd.addAll(List.of("-jar", examples, "--scenario", scenario, "--max-steps", String.valueOf(steps), "--epochs", "1",
                "--limit-train", String.valueOf(steps * 64), "--limit-test", "1000"));
        Path log = Files.createTempFile("scenario", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "timeout";
        }
        String out = Files.readString(log);
        Files.delete(log);
        Matcher m = Pattern.compile("done: \\d+ steps, test accuracy ([0-9.]+), diverged (\\w+)( \\(step (\\d+)\\))?").matcher(out);
        if (!m.find()) {
            return "failed (exit " + p.exitValue() + ")";
        }
        return m.group(2).equals("true") ? "DIVERGED (" + m.group(4) + "), " + m.group(1) : m.group(1);
    }
}
