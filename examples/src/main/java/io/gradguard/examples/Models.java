package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import ai.djl.nn.recurrent.LSTM;
import ai.djl.nn.recurrent.RNN;

/** Builds the DJL blocks; every model takes a batch of flat 784-pixel rows, shape (B, 784). */
final class Models {

    /** The shape {@code Trainer.initialize} is given: one flat image. */
    static final Shape INPUT_SHAPE = new Shape(1, ImageSet.PIXELS);

    private static final int DEEP_LAYERS = 26;

    private Models() {}

    static Block build(ModelKind kind) {
        return switch (kind) {
            case MLP -> mlp(256, 128);
            case WIDE_MLP -> mlp(4096, 1024);
            case DEEP_MLP -> deepMlp();
            case CNN -> cnn();
            case LSTM ->
                recurrent(LSTM.builder()
                        .setStateSize(128)
                        .setNumLayers(1)
                        .optBatchFirst(true)
                        .optReturnState(false)
                        .build());
            case RNN ->
                recurrent(RNN.builder()
                        .setStateSize(128)
                        .setNumLayers(1)
                        .setActivation(RNN.Activation.RELU)
                        .optBatchFirst(true)
                        .optReturnState(false)
                        .build());
        };
    }

    private static Block mlp(int... hidden) {
        SequentialBlock block = new SequentialBlock();
        for (int units : hidden) {
            block.add(Linear.builder().setUnits(units).build()).add(Activation.reluBlock());
        }
        return block.add(Linear.builder().setUnits(ImageSet.CLASSES).build());
    }

    private static Block deepMlp() {
        SequentialBlock block = new SequentialBlock();
        for (int i = 0; i < DEEP_LAYERS; i++) {
            block.add(Linear.builder().setUnits(64).build()).add(Activation.reluBlock());
        }
        return block.add(Linear.builder().setUnits(ImageSet.CLASSES).build());
    }

    private static Block cnn() {
        return new SequentialBlock()
                .addSingleton(x -> x.reshape(-1, 1, ImageSet.SIDE, ImageSet.SIDE))
                .add(Conv2d.builder()
                        .setKernelShape(new Shape(5, 5))
                        .optPadding(new Shape(2, 2))
                        .setFilters(6)
                        .build())
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Conv2d.builder()
                        .setKernelShape(new Shape(5, 5))
                        .setFilters(16)
                        .build())
                .add(Activation.reluBlock())
                .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
                .add(Blocks.batchFlattenBlock())
                .add(Linear.builder().setUnits(120).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(84).build())
                .add(Activation.reluBlock())
                .add(Linear.builder().setUnits(ImageSet.CLASSES).build());
    }

    /** Rows of the image as time steps; the class is read from the last step's hidden state. */
    private static Block recurrent(Block cell) {
        return new SequentialBlock()
                .addSingleton(x -> x.reshape(-1, ImageSet.SIDE, ImageSet.SIDE))
                .add(cell)
                .addSingleton(Models::lastStep)
                .add(Linear.builder().setUnits(ImageSet.CLASSES).build());
    }

    private static NDArray lastStep(NDArray sequence) {
        return sequence.get(":, -1, :");
    }
}
