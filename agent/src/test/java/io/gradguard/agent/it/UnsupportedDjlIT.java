package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * A DJL whose Trainer has another shape: the agent says so in one line (the version it saw, the
 * supported range, the fix) and the job runs untouched.
 * The stand-in classes are compiled here, into a temporary folder, so they never shadow the real
 * DJL on the test class path.
 */
class UnsupportedDjlIT {

    @Test
    void trainerWithoutStepIsReportedAndTheJobRunsOn() throws Exception {
        String out = runStandIn(
                "package ai.djl.training; public class Trainer { public void fit() {} }",
                "new ai.djl.training.Trainer().fit();",
                null);
        assertTrue(
                out.contains(
                        "[gradguard] DJL (version unknown) is not supported: ai.djl.training.Trainer has no method step(),"
                                + " no field parameterStore (ParameterStore), no field gradientsChecked (boolean);"
                                + " gradguard supports DJL 0.32.0 to 0.36.0. Use a DJL in that range"),
                out);
        assertTrue(out.contains("The job runs without gradguard."), out);
        assertEquals(1, count(out, "[gradguard]"), "one line, not a stack trace:\n" + out);
        assertTrue(out.contains("job done"), out);
    }

    @Test
    void trainerWithStepButAnotherInsideIsReportedOnceAndStepsRun() throws Exception {
        String out = runStandIn(
                "package ai.djl.training; public class Trainer { public int steps;"
                        + " public void step() { steps++; } }",
                "ai.djl.training.Trainer t = new ai.djl.training.Trainer();"
                        + " for (int i = 0; i < 5; i++) t.step(); System.out.println(\"steps=\" + t.steps);",
                "djl_version=0.99.0");
        assertTrue(out.contains("steps=5"), "every step ran:\n" + out);
        assertTrue(
                out.contains(
                        "[gradguard] DJL 0.99.0 is not supported: ai.djl.training.Trainer has no field parameterStore"
                                + " (ParameterStore), no field gradientsChecked (boolean); gradguard supports DJL 0.32.0 to 0.36.0."),
                out);
        assertEquals(1, count(out, "[gradguard]"), "one line, not a stack trace:\n" + out);
        assertTrue(out.contains("job done"), out);
    }

    /** Compiles and runs a stand-in DJL; {@code apiProperties}, when not null, is its {@code ai/djl/engine/api.properties}. */
    /**
     * A second DJL copy in another class loader, after the real DJL trained: it is left alone, said
     * in one line, and its steps run.
     */
    @Test
    void aSecondDjlCopyInAnotherLoaderIsLeftAloneWithOneLine() throws Exception {
        Path classes = compile(
                "package ai.djl.training; public class Trainer { public int steps;"
                        + " public void step() { steps++; } }",
                "");
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0",
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.SecondDjlCopyJob",
                classes.toString()))) {
            assertEquals(0, job.waitFor(120), job.output());
            String out = job.output();
            assertTrue(out.contains("second copy steps=5"), out);
            assertEquals(1, count(out, "a second copy of DJL in another class loader is left alone"), out);
            assertFalse(out.contains("contained a failure"), out);
            assertFalse(out.contains("ClassCastException"), out);
            assertTrue(out.contains("job done"), out);
        }
    }

    private static String runStandIn(String trainerSource, String mainBody, String apiProperties) throws Exception {
        Path classes = compile(trainerSource, mainBody);
        if (apiProperties != null) {
            Files.createDirectories(classes.resolve("ai/djl/engine"));
            Files.writeString(classes.resolve("ai/djl/engine/api.properties"), apiProperties);
        }
        try (ChildJvm job = ChildJvm.start(List.of(
                ChildJvm.JAVA,
                "-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0",
                "-cp",
                classes.toString(),
                "StandInJob"))) {
            assertEquals(0, job.waitFor(60), job.output());
            return job.output()
                    .replace(
                            "OpenJDK 64-Bit Server VM warning: Sharing is only supported for boot loader classes because bootstrap classpath has been appended\n",
                            "");
        }
    }

    /** Compiles the stand-in Trainer and a main class into a fresh folder (never on the test class path). */
    private static Path compile(String trainerSource, String mainBody) throws Exception {
        Path dir = Files.createTempDirectory("gradguard-standin");
        Path src = dir.resolve("src");
        Files.createDirectories(src.resolve("ai/djl/training"));
        Files.writeString(src.resolve("ai/djl/training/Trainer.java"), trainerSource);
        Files.writeString(
                src.resolve("StandInJob.java"),
                "public class StandInJob { public static void main(String[] a) { " + mainBody
                        + " System.out.println(\"job done\"); } }");
        Path classes = Files.createDirectories(dir.resolve("classes"));
        int rc = ToolProvider.getSystemJavaCompiler()
                .run(
                        null,
                        null,
                        null,
                        "-d",
                        classes.toString(),
                        src.resolve("ai/djl/training/Trainer.java").toString(),
                        src.resolve("StandInJob.java").toString());
        assertEquals(0, rc, "stand-in did not compile");
        return classes;
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
