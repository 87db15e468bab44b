package io.gradguard.core.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.gradguard.core.djl.StorageViews;
import io.gradguard.core.stats.ParameterGradient;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Scaling a gradient through a view of its storage, in Java, gives PyTorch's float32 product bit for bit. */
class GlobalNormScalingTest {

    @Test
    void aGradientScaledInJavaEqualsTheSameGradientScaledByPyTorchBitForBit() {
        try (NDManager manager = NDManager.newBaseManager()) {
            manager.getEngine().setRandomSeed(7);
            // two whole chunks and a part of a third, like the larger gradients scaled in Java (up to 8,192 floats)
            int size = 2 * StorageViews.CHUNK_FLOATS + 904;
            NDArray values = manager.randomNormal(0, 3, new Shape(size), ai.djl.ndarray.types.DataType.FLOAT32);
            NDArray inJava = values.duplicate();
            NDArray byTorch = values.duplicate();
            java.nio.FloatBuffer view = StorageViews.floats(inJava);
            assertNotNull(view, "a contiguous float32 CPU tensor has a storage view");
            double coefficient = 0.123456789;

            GlobalNormScaling.scale(List.of(new ParameterGradient("w", values, inJava, view)), coefficient, 10.0);
            GlobalNormScaling.scale(List.of(new ParameterGradient("w", values, byTorch)), coefficient, 10.0);

            assertArrayEquals(byTorch.toFloatArray(), inJava.toFloatArray(), 0f);
        }
    }
}
