package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The agent reaches DJL wherever it lives: attached late, or inside a nested class loader. */
class AttachAndClassLoaderIT {

    @Test
    void attachesToARunningJobAndExportsItsSteps() throws Exception {
        int port = ChildJvm.freePort();
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-Dtiny.sleepMs=30",
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "3000",
                "0.05"))) {
            job.awaitOutput("Number of intra-op threads", 60); // DJL is loaded and training
            Thread.sleep(500);
            try (ChildJvm attach = ChildJvm.start(ChildJvm.java(
                    "-jar", ChildJvm.agentJar(), String.valueOf(job.process.pid()), "port=" + port + ",summary=0"))) {
                assertEquals(0, attach.waitFor(60), attach.output());
                assertTrue(attach.output().contains("gradguard attached to pid"), attach.output());
            }
            Map<String, Double> s;
            try {
                s = ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 20, 60);
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\njob output:\n" + job.output(), e);
            }
            assertTrue(ChildJvm.value(s, "gradguard_grad_global_norm") > 0, s.toString());
            assertTrue(ChildJvm.value(s, "gradguard_grad_norm", "parameter=\"01Linear_weight\"") > 0, s.toString());
            job.awaitOutput("[gradguard] watching Trainer.step()", 10);
        }
    }

    @Test
    void findsDjlInANestedClassLoader() throws Exception {
        int port = ChildJvm.freePort();
        String launcherOnly = new File("target/test-classes").getAbsolutePath();
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=" + port + ",summary=0",
                "-Dtiny.sleepMs=20",
                "-Dnested.classpath=" + ChildJvm.testClassPath(),
                "-cp",
                launcherOnly,
                "io.gradguard.agent.jobs.NestedLoaderLauncher",
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "600",
                "0.05"))) {
            Map<String, Double> s =
                    ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 20, 90);
            assertTrue(ChildJvm.value(s, "gradguard_grad_norm", "parameter=\"03Linear_weight\"") > 0, s.toString());
            assertEquals(0, job.waitFor(120), job.output());
            String out = job.output();
            assertTrue(out.contains("DJL not visible from the system class loader"), out);
            assertTrue(out.contains("weights_sha256="), out);
            assertTrue(!out.contains("contained a failure"), out);
        }
    }
}
