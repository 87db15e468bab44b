package io.gradguard.examples;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.dataset.Batch;
import ai.djl.training.dataset.Dataset;
import ai.djl.translate.TranslateException;
import ai.djl.util.Progress;
import java.io.IOException;
import java.util.Iterator;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The training batches as both loops see them. Wrapping the dataset (rather than the loop) is what
 * lets {@code EasyTrain.fit} honour {@code --max-steps} and {@code --stop-on-divergence}: the
 * iteration simply ends. It also numbers steps, breaks the {@code --nan-steps} and {@code --corrupt-steps}
 * batches the way data pipelines break them, and times each batch from hand-out to the next request
 * (forward, backward, step and batch close).
 */
final class StepBudgetDataset implements Dataset {

    private final Dataset batches;
    private final RunLog log;
    private final Set<Integer> poisonedSteps;
    private final Set<Integer> corruptSteps;
    private final float corruptScale;

    StepBudgetDataset(Dataset batches, RunLog log, Faults faults) {
        this.batches = batches;
        this.log = log;
        this.poisonedSteps = Set.copyOf(faults.nanSteps());
        this.corruptSteps = Set.copyOf(faults.corruptSteps());
        this.corruptScale = (float) faults.corruptScale();
    }

    @Override
    public Iterable<Batch> getData(NDManager manager) throws IOException, TranslateException {
        Iterable<Batch> inner = batches.getData(manager);
        return () -> new BudgetedIterator(inner.iterator());
    }

    @Override
    public void prepare(Progress progress) throws IOException, TranslateException {
        batches.prepare(progress);
    }

    private final class BudgetedIterator implements Iterator<Batch> {

        private final Iterator<Batch> inner;
        private long handedOutAt = -1;

        BudgetedIterator(Iterator<Batch> inner) {
            this.inner = inner;
        }

        @Override
        public boolean hasNext() {
            if (handedOutAt >= 0) {
                log.recordStepTime(System.nanoTime() - handedOutAt);
                handedOutAt = -1;
            }
            return !log.exhausted() && inner.hasNext();
        }

        @Override
        public Batch next() {
            Batch batch = inner.next();
            int step = log.startStep();
            if (corruptSteps.contains(step)) {
                replaceImages(batch, images -> images.mul(corruptScale));
            }
            if (poisonedSteps.contains(step)) {
                replaceImages(batch, StepBudgetDataset::poisonFirstImage);
            }
            handedOutAt = System.nanoTime();
            return batch;
        }
    }

    /**
     * Puts a changed copy in place of the batch's images. A copy, because a batch may be a view of the
     * dataset's storage and the fault must hit exactly one step.
     */
    private static void replaceImages(Batch batch, UnaryOperator<NDArray> change) {
        NDArray images = batch.getData().get(0);
        NDArray changed = change.apply(images);
        batch.getData().set(0, changed);
        images.close();
    }

    /** One image of NaN pixels, as from a decoder that failed on one file. */
    private static NDArray poisonFirstImage(NDArray images) {
        NDArray poisoned = images.duplicate();
        poisoned.set(new NDIndex("0"), Float.NaN);
        return poisoned;
    }
}
