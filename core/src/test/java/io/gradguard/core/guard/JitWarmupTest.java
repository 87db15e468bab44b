package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.config.GradGuardConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JitWarmupTest {

    /** Every step of the path runs, for monitoring and for each kind of policy a job may choose. */
    @ParameterizedTest
    @ValueSource(
            strings = {"", "policy.type=global-norm,policy.max_norm=1", "policy.type=auto", "update_ratio_every=1"})
    void runsEveryStepOfThePathItWarms(String args) {
        GradGuardConfig config =
                GradGuardSchema.load("summary=0,port=0" + (args.isEmpty() ? "" : "," + args), Map.of(), Map.of());
        assertEquals(300, JitWarmup.run(Engine.getInstance(), config, 300), args);
    }

    /**
     * The job's random stream is untouched (the job trains bit for bit as it would), and nothing
     * reaches the job's output.
     */
    @Test
    void leavesTheRandomStreamAndTheOutputAsTheyWere() {
        Engine engine = Engine.getInstance();
        GradGuardConfig config = GradGuardSchema.load("summary=0,port=0", Map.of(), Map.of());
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (NDManager manager = engine.newBaseManager()) {
            engine.setRandomSeed(7);
            float[] expected = manager.randomUniform(0, 1, new Shape(16)).toFloatArray();
            engine.setRandomSeed(7);
            PrintStream capture = new PrintStream(printed, true, StandardCharsets.UTF_8);
            System.setOut(capture);
            System.setErr(capture);
            try {
                assertEquals(200, JitWarmup.run(engine, config, 200));
            } finally {
                System.setOut(out);
                System.setErr(err);
            }
            assertArrayEquals(
                    expected, manager.randomUniform(0, 1, new Shape(16)).toFloatArray());
        }
        assertEquals("", printed.toString(StandardCharsets.UTF_8));
    }
}
