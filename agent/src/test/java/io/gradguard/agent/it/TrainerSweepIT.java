package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A sweep of trainers, each closed after its run: the agent keeps none of them alive (its maps
 * are weak, and nothing they hold refers back to a trainer), with monitoring alone and with the
 * policy that holds the most (the recovery ladder and its control of the learning rate).
 */
class TrainerSweepIT {

    @ParameterizedTest
    @ValueSource(strings = {"policy.type=none", "policy.type=auto"})
    void closedTrainersAreNotKeptAlive(String policy) throws Exception {
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0," + policy,
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TrainerSweepJob",
                "4",
                "5"))) {
            assertEquals(0, job.waitFor(120), job.output());
            String out = job.output();
            for (int t = 0; t < 4; t++) {
                assertTrue(out.contains("sweep-" + t + ": 5 steps"), "the agent saw every trainer's steps:\n" + out);
            }
            assertTrue(out.contains("trainers still reachable: 0 of 4"), "closed trainers kept alive:\n" + out);
            assertFalse(out.contains("contained a failure"), out);
        }
    }
}
