package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Batch;
import ai.djl.translate.TranslateException;
import java.io.IOException;

/** {@code --loop manual}: collector, forward, loss, backward, close, {@code trainer.step()} by hand. */
final class ManualLoop {

    private ManualLoop() {}

    static void run(Trainer trainer, TrainingData data, Options options, RunLog log, BeforeStep beforeStep)
            throws IOException, TranslateException {
        StepBudgetDataset batches = new StepBudgetDataset(data.train(), log, options.faults());
        for (int epoch = 0; epoch < options.epochs() && !log.exhausted(); epoch++) {
            for (Batch batch : trainer.iterateDataset(batches)) {
                try (batch) {
                    NDList labels = batch.getLabels();
                    NDList predictions;
                    float loss;
                    try (GradientCollector collector = trainer.newGradientCollector()) {
                        predictions = trainer.forward(batch.getData(), labels);
                        NDArray lossValue = trainer.getLoss().evaluate(labels, predictions);
                        collector.backward(lossValue);
                        loss = lossValue.getFloat();
                    }
                    if (beforeStep != null) {
                        beforeStep.beforeStep(
                                log.steps(), trainer.getModel().getBlock().getParameters());
                    }
                    trainer.step();
                    log.recordBatch(loss, Accuracy.correct(predictions, labels), batch.getSize());
                }
            }
            if (log.epochOpen()) {
                log.endEpoch(Accuracy.onDataset(trainer, data.test()));
            }
        }
    }
}
