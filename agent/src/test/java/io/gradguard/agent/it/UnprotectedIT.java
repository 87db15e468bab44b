package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A job that asked for protection it does not get hears it unmistakably, at start and at exit; with
 * {@code fail_if_unprotected=true} it fails at its first step with one line.
 */
class UnprotectedIT {

    @Test
    void aMistypedPolicyIsSaidLoudlyAtStartAndAtExitAndTheJobRunsMonitored() throws Exception {
        String out = run("policy.type=glob-norm,port=0,summary=0");
        assertTrue(out.contains("policy.type=glob-norm is not a policy; use one of"), out);
        assertEquals(2, count(out, "gradguard is NOT PROTECTING this job"), "at start and at exit:\n" + out);
        assertTrue(out.contains("weights_sha256="), "the job ran to its end:\n" + out);
        assertTrue(out.contains("tiny: 30 steps"), "and was monitored:\n" + out);
    }

    @Test
    void aClippingSettingWithoutAPolicyIsSaidLoudly() throws Exception {
        String out = run("policy.max_norm=0.1,port=0,summary=0");
        assertTrue(out.contains("policy.max_norm is set (agent args) but policy.type is none"), out);
        assertEquals(2, count(out, "gradguard is NOT PROTECTING this job"), out);
    }

    @Test
    void failIfUnprotectedFailsTheJobAtItsFirstStepWithOneLine() throws Exception {
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar()
                        + "=policy.type=glob-norm,port=0,summary=0,fail_if_unprotected=true",
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "30",
                "0.05"))) {
            assertNotEquals(0, job.waitFor(120), job.output());
            assertTrue(
                    job.output()
                            .contains("gradguard: a protection setting could not be used (said at start) and"
                                    + " fail_if_unprotected=true"),
                    job.output());
            assertTrue(!job.output().contains("weights_sha256="), job.output());
        }
    }

    private static String run(String agentArgs) throws Exception {
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "30",
                "0.05"))) {
            assertEquals(0, job.waitFor(120), job.output());
            return job.output();
        }
    }

    private static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }
}
