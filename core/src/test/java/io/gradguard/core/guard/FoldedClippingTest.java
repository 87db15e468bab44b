package io.gradguard.core.guard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.optimizer.Sgd;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.gradguard.core.step.StepReport;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Global-norm clipping with the factor left to the optimizer's update (DJL's SGD, Adam and AdamW
 * multiply every gradient by their {@code rescaleGrad} first) trains bit for bit as clipping the
 * gradients in place; where the optimizer cannot take the factor, the gradients are scaled.
 */
class FoldedClippingTest {

    private static final String CLIP_EVERY_STEP = "policy.type=global-norm,policy.max_norm=0.05";
    private static final int STEPS = 12;

    static Stream<Arguments> optimizers() {
        Supplier<Tracker> lr = () -> Tracker.fixed(0.05f);
        return Stream.of(
                Arguments.of("sgd, momentum, weight decay", true, (Supplier<Optimizer>) () -> Optimizer.sgd()
                        .setLearningRateTracker(lr.get())
                        .optMomentum(0.9f)
                        .optWeightDecays(1e-3f)
                        .build()),
                Arguments.of("adam", true, (Supplier<Optimizer>)
                        () -> Optimizer.adam().optLearningRateTracker(lr.get()).build()),
                Arguments.of("adamw", true, (Supplier<Optimizer>)
                        () -> Optimizer.adamW().optLearningRateTracker(lr.get()).build()),
                Arguments.of("sgd with the job's own rescaleGrad", false, (Supplier<Optimizer>) () -> Optimizer.sgd()
                        .setLearningRateTracker(lr.get())
                        .setRescaleGrad(0.5f)
                        .build()),
                Arguments.of("a subclass of Sgd", false, (Supplier<Optimizer>) () -> new JobsSgd(
                        Optimizer.sgd().setLearningRateTracker(lr.get()).optMomentum(0.9f))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("optimizers")
    void trainsAsClippingTheGradientsInPlace(String name, boolean folds, Supplier<Optimizer> optimizer)
            throws Exception {
        List<Float> factors = new ArrayList<>();
        Map<String, float[]> guarded;
        Optimizer guardedOptimizer = optimizer.get();
        try (GuardedTraining t = new GuardedTraining(CLIP_EVERY_STEP, guardedOptimizer)) {
            float jobRescale = rescaleGrad(guardedOptimizer);
            for (int i = 0; i < STEPS; i++) {
                t.backward(1f);
                Map<String, float[]> measured = t.trainableGradients();
                assertEquals(StepOutcome.PROCEED, t.guard.beforeStep());
                Map<String, float[]> seenByUpdate = t.trainableGradients();
                t.trainer.step();
                t.guard.afterStep(false);
                StepReport report = t.reports.get(t.reports.size() - 1);
                float factor = (float) report.clip().coefficient();
                assertTrue(report.clip().clipped() && factor < 1, "step " + (i + 1) + " was not clipped");
                factors.add(factor);
                for (String p : measured.keySet()) {
                    float[] expected = measured.get(p).clone();
                    if (!folds) {
                        for (int k = 0; k < expected.length; k++) {
                            expected[k] *= factor;
                        }
                    }
                    assertArrayEquals(
                            expected,
                            seenByUpdate.get(p),
                            0f,
                            (folds ? "folded: the gradient must be left as it is" : "scaled in place") + ": " + p);
                }
                assertEquals(jobRescale, rescaleGrad(guardedOptimizer), 0f, "rescaleGrad after step " + (i + 1));
            }
            guarded = t.weights();
        }
        Map<String, float[]> byHand;
        try (GuardedTraining t = new GuardedTraining(CLIP_EVERY_STEP, optimizer.get())) {
            for (float factor : factors) {
                t.backwardWithoutAgent(1f);
                scaleGradients(t, factor);
                t.trainer.step();
            }
            byHand = t.weights();
        }
        for (String p : byHand.keySet()) {
            assertArrayEquals(byHand.get(p), guarded.get(p), 0f, name + ": " + p);
        }
    }

    /** PyTorch's clip_grad_norm_ step: every gradient multiplied in place by the float factor. */
    private static void scaleGradients(GuardedTraining t, float factor) {
        for (Pair<String, Parameter> p : t.model.getBlock().getParameters()) {
            if (p.getValue().requiresGradient()) {
                try (NDArray g = p.getValue().getArray().getGradient();
                        NDArray f = g.getManager().create(factor)) {
                    g.muli(f);
                }
            }
        }
    }

    private static float rescaleGrad(Optimizer optimizer) throws ReflectiveOperationException {
        Field f = Optimizer.class.getDeclaredField("rescaleGrad");
        f.setAccessible(true);
        return f.getFloat(optimizer);
    }

    /** A job's own optimizer class: its update may do anything, so the factor is not left to it. */
    private static final class JobsSgd extends Sgd {
        JobsSgd(Sgd.Builder builder) {
            super(builder);
        }
    }
}
