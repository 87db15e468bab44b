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

/**
 * The training batches as both loops see them. Wrapping the dataset (rather than the loop) is what
 * lets {@code EasyTrain.fit} honour {@code --max-steps} and {@code --stop-on-divergence}: the
 * iteration simply ends. It also numbers steps, poisons the {@code --nan-steps} batches and times
 * each batch from hand-out to the next request (forward, backward, step and batch close).
 */
final class StepBudgetDataset implements Dataset {

    private final Dataset batches;
    private final RunLog log;
    private final Set<Integer> poisonedSteps;

    StepBudgetDataset(Dataset batches, RunLog log, Set<Integer> poisonedSteps) {
        this.batches = batches;
        this.log = log;
        this.poisonedSteps = Set.copyOf(poisonedSteps);
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
            if (poisonedSteps.contains(step)) {
                poison(batch);
            }
            handedOutAt = System.nanoTime();
            return batch;
        }
    }

    /**
     * Replaces the first image of the batch by NaN pixels. A copy, because a batch may be a view of
     * the dataset's storage and the poison must hit exactly one step.
     */
    private static void poison(Batch batch) {
        NDArray images = batch.getData().get(0);
        NDArray poisoned = images.duplicate();
        poisoned.set(new NDIndex("0"), Float.NaN);
        batch.getData().set(0, poisoned);
        images.close();
    }
}
