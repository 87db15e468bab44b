package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs {@code ClipCheckJob} in a child JVM with the agent clipping by global norm and writing its
 * step log, then holds the agent's figures against the job's own: per-parameter and global norms
 * to 1e-5 (relative), the clip coefficient, the loss (seen by the {@code backward} advice), each weight change against the clipped
 * gradient to 1e-6 (the job measures that), and the NaN step skipped with the weights untouched.
 */
final class ClipCheck {

    static final double MAX_NORM = 0.5;

    /** One step as the job saw it. */
    record JobStep(int step, double loss, double global, Map<String, Double> norms, double maxUpdateError) {}

    /** One step as the agent logged it; null for a non-finite value. */
    record LoggedStep(
            int step,
            Double loss,
            Double global,
            Double clipCoefficient,
            boolean skipped,
            String skipReason,
            Map<String, Double> norms) {}

    private static final Pattern JOB_LINE =
            Pattern.compile("(?m)^step (\\d+) loss (\\S+) global (\\S+) norms (\\S+) max_update_error (\\S+)$");
    private static final Pattern PARAM = Pattern.compile("\\{\"name\":\"([^\"]*)\",\"norm\":([^}]*)\\}");

    private ClipCheck() {}

    /**
     * Runs the job and checks it.
     *
     * @param javaAndFlags the java command and the flags before the class path
     * @param classPath the job's class path (a DJL, the test classes)
     * @return the job's output, for further checks
     */
    static String runAndCheck(List<String> javaAndFlags, String classPath, int steps, int nanStep) throws Exception {
        Path log = Files.createTempFile("gradguard-clipcheck", ".jsonl");
        log.toFile().deleteOnExit();
        List<String> cmd = new ArrayList<>(javaAndFlags);
        cmd.add("-Dcheck.maxNorm=" + MAX_NORM);
        cmd.add("-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0,policy.type=global-norm,policy.max_norm="
                + MAX_NORM + ",log=" + log);
        cmd.addAll(List.of(
                "-cp",
                classPath,
                "io.gradguard.agent.jobs.ClipCheckJob",
                String.valueOf(steps),
                String.valueOf(nanStep)));
        String out;
        try (ChildJvm job = ChildJvm.start(cmd)) {
            assertEquals(0, job.waitFor(180), job.output());
            out = job.output();
        }
        assertTrue(out.contains("[gradguard] watching Trainer.step()"), out);
        assertTrue(!out.contains("contained a failure") && !out.contains("could not"), out);
        check(jobSteps(out), loggedSteps(Files.readAllLines(log)), steps, nanStep, out);
        return out;
    }

    private static void check(List<JobStep> job, List<LoggedStep> logged, int steps, int nanStep, String out) {
        assertEquals(steps, job.size(), out);
        assertEquals(steps, logged.size(), "one step log record per step:\n" + out);
        int clipped = 0;
        for (int i = 0; i < steps; i++) {
            JobStep j = job.get(i);
            LoggedStep a = logged.get(i);
            String where = "step " + j.step() + "\n" + out;
            assertEquals(j.step(), a.step(), where);
            if (j.step() == nanStep) {
                assertTrue(a.skipped(), "the NaN step is skipped: " + where);
                assertEquals("nonfinite", a.skipReason(), where);
                assertEquals(0.0, j.maxUpdateError(), "no weight moved on the skipped step: " + where);
                continue;
            }
            assertTrue(!a.skipped(), where);
            assertEquals(j.norms().keySet(), a.norms().keySet(), "every parameter is in the log: " + where);
            for (Map.Entry<String, Double> n : j.norms().entrySet()) {
                assertClose(n.getValue(), a.norms().get(n.getKey()), 1e-5, n.getKey() + " norm at " + where);
            }
            assertClose(j.global(), a.global(), 1e-5, "global norm at " + where);
            if (j.step() > 1) { // the runtime learns which trainer a loss belongs to at the first step
                assertClose(j.loss(), a.loss(), 1e-5, "loss at " + where);
            }
            double coef = Math.min(1, MAX_NORM / (j.global() + 1e-6));
            assertClose(coef, a.clipCoefficient(), 1e-5, "clip coefficient at " + where);
            clipped += coef < 1 ? 1 : 0;
            assertTrue(
                    j.maxUpdateError() <= 1e-6,
                    "weight change = -lr * clipped gradient to 1e-6, off by " + j.maxUpdateError() + " at " + where);
        }
        assertEquals(
                nanStep > 0 ? steps - 1 : steps,
                clipped,
                "every finite step was clipped (max_norm " + MAX_NORM + "):\n" + out);
    }

    private static void assertClose(double expected, Double actual, double relative, String what) {
        assertTrue(
                actual != null && Math.abs(actual - expected) <= relative * Math.max(1, Math.abs(expected)),
                what + ": expected " + expected + ", agent " + actual);
    }

    static List<JobStep> jobSteps(String out) {
        List<JobStep> steps = new ArrayList<>();
        Matcher m = JOB_LINE.matcher(out);
        while (m.find()) {
            Map<String, Double> norms = new LinkedHashMap<>();
            for (String kv : m.group(4).split(",")) {
                int eq = kv.lastIndexOf('=');
                norms.put(kv.substring(0, eq), Double.parseDouble(kv.substring(eq + 1)));
            }
            steps.add(new JobStep(
                    Integer.parseInt(m.group(1)),
                    Double.parseDouble(m.group(2)),
                    Double.parseDouble(m.group(3)),
                    norms,
                    Double.parseDouble(m.group(5))));
        }
        return steps;
    }

    static List<LoggedStep> loggedSteps(List<String> lines) {
        List<LoggedStep> steps = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            Map<String, Double> norms = new LinkedHashMap<>();
            Matcher p = PARAM.matcher(line);
            while (p.find()) {
                norms.put(p.group(1), number(p.group(2)));
            }
            String reason = field(line, "skip_reason");
            steps.add(new LoggedStep(
                    Integer.parseInt(field(line, "step")),
                    number(field(line, "loss")),
                    number(field(line, "global_norm")),
                    number(field(line, "clip_coefficient")),
                    Boolean.parseBoolean(field(line, "skipped")),
                    "null".equals(reason) ? null : reason.replace("\"", ""),
                    norms));
        }
        return steps;
    }

    private static String field(String line, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(\"[^\"]*\"|[^,}]*)").matcher(line);
        if (!m.find()) {
            throw new AssertionError("no " + name + " in step log line " + line);
        }
        return m.group(1);
    }

    private static Double number(String s) {
        return "null".equals(s) ? null : Double.valueOf(s);
    }
}
