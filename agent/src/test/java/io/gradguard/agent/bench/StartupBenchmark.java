package io.gradguard.agent.bench;

import io.gradguard.agent.jobs.FirstStepJob;
import io.gradguard.agent.jobs.JobClassPath;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The start-up section of {@code ./gradguard bench}: what attaching the agent costs a JVM before it
 * does anything ({@code java -version}) and a DJL job before its first optimizer step
 * ({@link FirstStepJob}, which prints the milliseconds from JVM start to the end of that step).
 *
 * <p>Bare and agent runs alternate in pairs and every other pair starts with the agent, so slow
 * drift of a shared machine lands on both; one pair of each kind is run first and not counted (it
 * fills the page cache). Medians over the pairs are printed side by side.
 */
final class StartupBenchmark {

    private static final Pattern FIRST_STEP = Pattern.compile("first_step_ms=([0-9.]+)");
    private static final String AGENT_ARGS = "port=auto,summary=0";

    private final Path agentJar;
    private final int pairs;
    private final PrintStream out;

    /** One measure: per pair, the bare and the agent figure. */
    private record Measure(String name, List<Double> bare, List<Double> agent) {}

    StartupBenchmark(Path agentJar, int pairs, PrintStream out) {
        this.agentJar = agentJar;
        this.pairs = pairs;
        this.out = out;
    }

    void run() throws IOException, InterruptedException {
        out.printf(
                Locale.ROOT,
                "%nstart-up: %d pairs per measure (bare, agent alternated; every other pair agent first;"
                        + " 1 uncounted pair first), agent -javaagent:gradguard-agent.jar=%s, child JVMs %s%n",
                pairs,
                AGENT_ARGS,
                String.join(" ", OverheadBenchmark.JVM_FLAGS));
        Measure version = new Measure("`java -version`, process wall", new ArrayList<>(), new ArrayList<>());
        Measure firstStep =
                new Measure("one-step DJL job, JVM start to end of first step", new ArrayList<>(), new ArrayList<>());
        Measure jobWall = new Measure("one-step DJL job, process wall", new ArrayList<>(), new ArrayList<>());
        String classPath = JobClassPath.withoutAgent(System.getProperty("java.class.path"));
        for (int pair = -1; pair < pairs; pair++) {
            for (boolean agent : pair % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
                double wall = runMillis(command(agent, List.of("-version")), null);
                double[] step = new double[1];
                double job = runMillis(command(agent, List.of("-cp", classPath, FirstStepJob.class.getName())), step);
                if (pair >= 0) {
                    (agent ? version.agent() : version.bare()).add(wall);
                    (agent ? firstStep.agent() : firstStep.bare()).add(step[0]);
                    (agent ? jobWall.agent() : jobWall.bare()).add(job);
                }
                System.err.printf(
                        Locale.ROOT,
                        "[bench] start-up pair %d %-5s java -version %.0f ms, first step %.0f ms, job %.0f ms%n",
                        pair + 1,
                        agent ? "agent" : "bare",
                        wall,
                        step[0],
                        job);
            }
        }
        out.println();
        out.println("| measure | bare median ms | agent median ms | added ms | x bare | per-pair bare / agent ms |");
        out.println("|---|---:|---:|---:|---:|---|");
        for (Measure m : List.of(version, firstStep, jobWall)) {
            double bare = OverheadBenchmark.median(m.bare(), Double::doubleValue);
            double agent = OverheadBenchmark.median(m.agent(), Double::doubleValue);
            StringBuilder each = new StringBuilder();
            for (int i = 0; i < m.bare().size(); i++) {
                each.append(i == 0 ? "" : ", ")
                        .append(String.format(
                                Locale.ROOT,
                                "%.0f/%.0f",
                                m.bare().get(i),
                                m.agent().get(i)));
            }
            out.printf(
                    Locale.ROOT,
                    "| %s | %.0f | %.0f | %+.0f | %.2f | %s |%n",
                    m.name(),
                    bare,
                    agent,
                    agent - bare,
                    agent / bare,
                    each);
        }
    }

    private List<String> command(boolean agent, List<String> rest) {
        List<String> cmd = OverheadBenchmark.javaCommand(agentJar, agent ? AGENT_ARGS : null);
        cmd.addAll(rest);
        return cmd;
    }

    /**
     * Runs one child JVM to its end.
     *
     * @param firstStep where to put the job's first-step time, or null when the child is not the job
     * @return its wall time in milliseconds, from start to exit
     */
    private double runMillis(List<String> cmd, double[] firstStep) throws IOException, InterruptedException {
        OverheadBenchmark.Finished run = OverheadBenchmark.runToEnd(cmd, String.join(" ", cmd), 5);
        if (firstStep != null) {
            Matcher m = FIRST_STEP.matcher(run.output());
            if (!m.find()) {
                throw new IllegalStateException("no first_step_ms in the job's output:\n" + run.output());
            }
            firstStep[0] = Double.parseDouble(m.group(1));
            boolean withAgent = cmd.stream().anyMatch(a -> a.startsWith("-javaagent:"));
            if (withAgent && !run.output().contains("[gradguard] watching Trainer.step()")) {
                throw new IllegalStateException("the agent did not start in the job:\n" + run.output());
            }
        }
        return run.seconds() * 1000;
    }
}
