package io.gradguard.examples;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.dataset.ArrayDataset;
import ai.djl.training.dataset.BatchSampler;
import ai.djl.training.dataset.SequenceSampler;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** The run's train and test {@link ArrayDataset}s: pixels normalised to [0, 1], labels as float class ids. */
record TrainingData(ArrayDataset train, ArrayDataset test, int trainSize, int testSize, String source) {

    static final String MISSING_MESSAGE = "Fashion-MNIST not found in " + FashionMnist.DEBIAN_DIR
            + "; install it with: sudo apt-get install dataset-fashion-mnist (using synthetic data)";

    private static final int EVAL_BATCH = 500;

    /** Loads the data {@code options} names into {@code manager}, which owns the arrays. */
    static TrainingData load(Options options, NDManager manager, Device device) throws IdxFormatException {
        FashionMnist.Splits splits;
        String source;
        if ("synthetic".equals(options.data())) {
            splits = SyntheticImages.generate(options.seed(), options.limitTrain(), options.limitTest());
            source = "synthetic";
        } else if (options.data() != null) {
            Path dir = Path.of(options.data());
            if (!FashionMnist.isPresent(dir)) {
                throw new IdxFormatException(dir, "no Fashion-MNIST IDX files (train-images-idx3-ubyte[.gz] ...)");
            }
            splits = FashionMnist.load(dir);
            source = dir.toString();
        } else if (FashionMnist.isPresent(FashionMnist.DEBIAN_DIR)) {
            splits = FashionMnist.load(FashionMnist.DEBIAN_DIR);
            source = FashionMnist.DEBIAN_DIR.toString();
        } else {
            System.out.println(MISSING_MESSAGE);
            splits = SyntheticImages.generate(options.seed(), options.limitTrain(), options.limitTest());
            source = "synthetic";
        }
        ImageSet train = splits.train().first(options.limitTrain());
        ImageSet test = splits.test().first(options.limitTest());
        ArrayDataset trainSet = new ArrayDataset.Builder()
                .setData(pixels(manager, train))
                .optLabels(labels(manager, train))
                .setSampling(new SeededBatchSampler(options.seed(), options.batchSize()))
                .optDevice(device)
                .build();
        ArrayDataset testSet = new ArrayDataset.Builder()
                .setData(pixels(manager, test))
                .optLabels(labels(manager, test))
                .setSampling(new BatchSampler(new SequenceSampler(), EVAL_BATCH, false))
                .optDevice(device)
                .build();
        return new TrainingData(trainSet, testSet, train.size(), test.size(), source);
    }

    /** Optimizer steps in one full epoch (the last batch may be short). */
    int batchesPerEpoch(int batchSize) {
        return (trainSize + batchSize - 1) / batchSize;
    }

    private static NDArray pixels(NDManager manager, ImageSet set) {
        ByteBuffer buffer =
                ByteBuffer.allocateDirect(set.pixels().length).put(set.pixels()).rewind();
        try (NDArray bytes = manager.create(buffer, new Shape(set.size(), ImageSet.PIXELS), DataType.UINT8)) {
            return bytes.toType(DataType.FLOAT32, false).divi(255f);
        }
    }

    private static NDArray labels(NDManager manager, ImageSet set) {
        float[] labels = new float[set.size()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = set.labels()[i] & 0xff;
        }
        return manager.create(labels);
    }
}
