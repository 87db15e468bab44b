package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** A save of a model whose weights hold NaN is refused with one line, and the good checkpoint stays. */
class PoisonedSaveIT {

    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint (\\d) ([0-9a-f]{64})");

    @Test
    void aPoisonedModelDoesNotOverwriteTheGoodCheckpoint() throws Exception {
        String out = run("");
        String[] digests = digests(out);
        assertEquals(digests[0], digests[1], "the checkpoint file changed:\n" + out);
        assertTrue(
                out.contains("[gradguard] WARNING: refused Model.save of ckpt: its weights hold NaN/Inf"
                        + " (01Linear_weight); the file on disk is left as it was"),
                out);
    }

    @Test
    void theRefusalCanBeTurnedOff() throws Exception {
        String out = run(",recovery.refuse_poisoned_save=false");
        String[] digests = digests(out);
        assertNotEquals(digests[0], digests[1], "asked to save anyway:\n" + out);
        assertTrue(!out.contains("refused Model.save"), out);
    }

    private static String run(String extra) throws Exception {
        Path dir = Files.createTempDirectory("gradguard-ckpt");
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0" + extra,
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.PoisonedSaveJob",
                dir.toString()))) {
            assertEquals(0, job.waitFor(120), job.output());
            return job.output();
        }
    }

    private static String[] digests(String out) {
        String[] d = new String[2];
        Matcher m = CHECKPOINT.matcher(out);
        while (m.find()) {
            d[Integer.parseInt(m.group(1)) - 1] = m.group(2);
        }
        assertTrue(d[0] != null && d[1] != null, out);
        return d;
    }
}
