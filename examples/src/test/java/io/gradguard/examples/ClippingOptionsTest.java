package io.gradguard.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import org.junit.jupiter.api.Test;

/** {@code --hand-clip} and {@code --djl-clip-grad}: the two hand-written baselines of the overhead benchmark. */
class ClippingOptionsTest {

    @Test
    void bothOptionsParseAndAreOffByDefault() {
        Options off = CommandLineOptions.parse();
        assertTrue(Double.isNaN(off.handClip()));
        assertTrue(Double.isNaN(off.djlClipGrad()));
        Options on = CommandLineOptions.parse("--loop", "manual", "--hand-clip", "0.5", "--djl-clip-grad", "0.25");
        assertEquals(0.5, on.handClip());
        assertEquals(0.25, on.djlClipGrad());
    }

    @Test
    void handClipNeedsTheManualLoopAndPositiveValues() {
        assertEquals(
                "error: --hand-clip needs --loop manual (see --help)",
                CommandLineTest.execute("--hand-clip", "1").err().strip());
        assertEquals(
                "error: --hand-clip must be a positive number, got -1.0 (see --help)",
                CommandLineTest.execute("--loop", "manual", "--hand-clip", "-1")
                        .err()
                        .strip());
        assertEquals(
                "error: --djl-clip-grad must be a positive number, got 0.0 (see --help)",
                CommandLineTest.execute("--djl-clip-grad", "0").err().strip());
    }

    @Test
    void handClipScalesEveryGradientToMaxNormLikeTorch() {
        try (NDManager manager = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            Linear block = Linear.builder().setUnits(4).build();
            block.initialize(manager, DataType.FLOAT32, new Shape(2, 3));
            ParameterList parameters = block.getParameters();
            for (Pair<String, Parameter> p : parameters) {
                p.getValue().getArray().setRequiresGradient(true);
            }
            NDArray x = manager.create(new float[] {1, -2, 3, 4, 5, -6}, new Shape(2, 3));
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray y = block.forward(new ParameterStore(manager, false), new ai.djl.ndarray.NDList(x), true)
                        .singletonOrThrow();
                collector.backward(y.mul(100f).sum());
            }
            double[] before = gradients(parameters);
            double globalBefore = l2(before);
            HandClip clip = new HandClip(0.5f);
            clip.beforeStep(1, parameters);
            double[] after = gradients(parameters);
            assertEquals(globalBefore, clip.lastGlobalNorm(), globalBefore * 1e-6);
            assertEquals(1, clip.clippedSteps());
            assertEquals(0.5, l2(after), 0.5 * 1e-5);
            double coefficient = 0.5 / (globalBefore + 1e-6);
            for (int i = 0; i < before.length; i++) {
                assertEquals(before[i] * coefficient, after[i], Math.abs(before[i] * coefficient) * 1e-5 + 1e-9);
            }
            // Already below max_norm: untouched.
            new HandClip(100f).beforeStep(2, parameters);
            assertEquals(l2(after), l2(gradients(parameters)), 1e-9);
        }
    }

    @Test
    void djlClipGradChangesTheWeightsOnlyWhenGradientsExceedIt() throws Exception {
        Options plain = Options.defaults(Scenario.HEALTHY).toBuilder()
                .epochs(1)
                .limits(5, 320, 64)
                .build();
        String bare = ReferenceTrainer.run(plain).weightsSha256();
        String loose = ReferenceTrainer.run(CommandLineOptions.parse(
                        "--epochs",
                        "1",
                        "--max-steps",
                        "5",
                        "--limit-train",
                        "320",
                        "--limit-test",
                        "64",
                        "--djl-clip-grad",
                        "1e6"))
                .weightsSha256();
        String tight = ReferenceTrainer.run(CommandLineOptions.parse(
                        "--epochs",
                        "1",
                        "--max-steps",
                        "5",
                        "--limit-train",
                        "320",
                        "--limit-test",
                        "64",
                        "--djl-clip-grad",
                        "1e-4"))
                .weightsSha256();
        assertEquals(bare, loose);
        assertNotEquals(bare, tight);
    }

    private static double[] gradients(ParameterList parameters) {
        java.util.List<Float> values = new java.util.ArrayList<>();
        for (Pair<String, Parameter> p : parameters) {
            try (NDArray g = p.getValue().getArray().getGradient()) {
                for (float v : g.toFloatArray()) {
                    values.add(v);
                }
            }
        }
        double[] out = new double[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }

    private static double l2(double[] values) {
        double s = 0;
        for (double v : values) {
            s += v * v;
        }
        return Math.sqrt(s);
    }
}
