package io.gradguard.core.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.djl.DirectSumsOfSquares;
import io.gradguard.core.djl.Scratch;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A plan kept across steps makes its dot products on raw handles: its figures are bit-identical
 * to DJL's own {@code dot} at every step, follow in-place updates of the gradients, and still find
 * a NaN.
 */
class KeptPlanTest {

    private static final List<Shape> SHAPES =
            List.of(new Shape(128, 784), new Shape(128), new Shape(128, 128), new Shape(5000), new Shape(10, 128));

    @Test
    void directSumsEqualDjlDotBitForBit() {
        Engine.getInstance().setRandomSeed(5);
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> flat = new ArrayList<>();
            for (Shape s : SHAPES) {
                flat.add(manager.randomNormal(0f, 1e-2f, s, DataType.FLOAT32).reshape(-1));
            }
            DirectSumsOfSquares direct = DirectSumsOfSquares.of(flat);
            assertNotNull(direct, "DJL's PyTorch binding is found");
            double[] sums = direct.compute();
            for (int i = 0; i < flat.size(); i++) {
                try (NDArray dot = flat.get(i).dot(flat.get(i))) {
                    assertEquals(dot.getFloat(), sums[i], 0.0, SHAPES.get(i).toString());
                }
            }
        }
    }

    @Test
    void aKeptPlanMeasuresAsAFreshPlanAtEveryStep() {
        Engine.getInstance().setRandomSeed(6);
        try (NDManager manager = NDManager.newBaseManager();
                NDManager views = manager.newSubManager()) {
            List<ParameterGradient> grads = new ArrayList<>();
            for (int i = 0; i < SHAPES.size(); i++) {
                NDArray g = manager.randomNormal(1e-3f, 1e-3f, SHAPES.get(i), DataType.FLOAT32);
                grads.add(new ParameterGradient("p" + i, manager.ones(SHAPES.get(i)), g));
            }
            StatisticsPlan kept = StatisticsPlan.of(grads, views);
            for (int step = 0; step < 3; step++) {
                try (NDManager scratch = manager.newSubManager()) {
                    StepStats mine = kept.compute(grads, Scratch.in(scratch), false, false, List.of(), new double[0]);
                    StepStats fresh = StatisticsPlan.of(grads)
                            .compute(grads, Scratch.in(scratch), false, false, List.of(), new double[0]);
                    for (int i = 0; i < grads.size(); i++) {
                        assertEquals(
                                fresh.parameters().get(i).gradNorm(),
                                mine.parameters().get(i).gradNorm(),
                                0.0,
                                "step " + step + " " + SHAPES.get(i));
                    }
                    assertEquals(fresh.globalNorm(), mine.globalNorm(), 0.0);
                }
                for (ParameterGradient g : grads) {
                    g.gradient().muli(1.5f + step); // in place, as backward accumulates
                }
            }
            grads.get(2).gradient().set(new ai.djl.ndarray.index.NDIndex("3, 7"), Float.NaN);
            try (NDManager scratch = manager.newSubManager()) {
                StepStats bad = kept.compute(grads, Scratch.in(scratch), false, false, List.of(), new double[0]);
                assertTrue(bad.nonFinite(), "a NaN in a kept gradient is found");
                assertTrue(bad.parameters().get(2).nonFinite());
            }
        }
    }
}
