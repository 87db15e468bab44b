package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.translate.TranslateException;
import java.io.IOException;

/** Counting correct predictions, and test accuracy through {@code Trainer.evaluate} (inference mode). */
final class Accuracy {

    private Accuracy() {}

    /** Correct predictions of a batch: arg-max of the logits equals the label. */
    static long correct(NDList predictions, NDList labels) {
        NDArray predicted = predictions.singletonOrThrow().argMax(1);
        NDArray truth = labels.singletonOrThrow().toType(DataType.INT64, false);
        return predicted.eq(truth).countNonzero().getLong();
    }

    static double onDataset(Trainer trainer, Dataset dataset) throws IOException, TranslateException {
        long correct = 0;
        long seen = 0;
        for (Batch batch : trainer.iterateDataset(dataset)) {
            try (batch) {
                correct += correct(trainer.evaluate(batch.getData()), batch.getLabels());
                seen += batch.getSize();
            }
        }
        return seen == 0 ? 0 : (double) correct / seen;
    }
}
