package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.EasyTrain;
import ai.djl.training.Trainer;
import ai.djl.training.dataset.Dataset;
import ai.djl.training.listener.DivergenceCheckTrainingListener;
import ai.djl.training.listener.TrainingListener;
import ai.djl.training.listener.TrainingListenerAdapter;
import ai.djl.translate.TranslateException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.stream.Stream;

/** {@code --loop easy}: {@code EasyTrain.fit} with DJL's default listeners, observed through one more listener. */
final class EasyLoop {

    private EasyLoop() {}

    /**
     * DJL's {@code Defaults.basic()} minus {@link DivergenceCheckTrainingListener}: that one throws on a NaN
     * loss, and the job under test must not know it diverged.
     */
    static TrainingListener[] listeners(RunLog log, Dataset test) {
        return Stream.concat(
                        Arrays.stream(TrainingListener.Defaults.basic())
                                .filter(l -> !(l instanceof DivergenceCheckTrainingListener)),
                        Stream.of(new Recorder(log, test)))
                .toArray(TrainingListener[]::new);
    }

    static void run(Trainer trainer, TrainingData data, Options options, RunLog log)
            throws IOException, TranslateException {
        int epochs = options.epochs();
        if (options.maxSteps() > 0) {
            // Whole epochs that hold a step of the budget; the budgeted dataset ends the last one early.
            int perEpoch = data.batchesPerEpoch(options.batchSize());
            epochs = Math.min(epochs, (options.maxSteps() + perEpoch - 1) / perEpoch);
        }
        StepBudgetDataset batches = new StepBudgetDataset(data.train(), log, options.faults());
        EasyTrain.fit(trainer, epochs, batches, null);
    }

    /** Feeds the run log from DJL's listener callbacks; EasyTrain calls it after backward, before step. */
    private static final class Recorder extends TrainingListenerAdapter {

        private final RunLog log;
        private final Dataset test;

        Recorder(RunLog log, Dataset test) {
            this.log = log;
            this.test = test;
        }

        @Override
        public void onTrainingBatch(Trainer trainer, BatchData batchData) {
            NDList labels = batchData.getLabels().values().iterator().next();
            NDList predictions = batchData.getPredictions().values().iterator().next();
            float loss;
            try (NDArray lossValue = trainer.getLoss().evaluate(labels, predictions)) {
                loss = lossValue.getFloat();
            }
            log.recordBatch(
                    loss,
                    Accuracy.correct(predictions, labels),
                    batchData.getBatch().getSize());
        }

        @Override
        public void onEpoch(Trainer trainer) {
            if (!log.epochOpen()) {
                return; // an epoch the budget left empty (--stop-on-divergence)
            }
            try {
                log.endEpoch(Accuracy.onDataset(trainer, test));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (TranslateException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
