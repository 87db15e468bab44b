package io.gradguard.examples;

import ai.djl.training.dataset.RandomAccessDataset;
import ai.djl.training.dataset.Sampler;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * Shuffled batches from its own seeded generator. DJL's RandomSampler draws from the process-wide
 * {@code RandomUtils.RANDOM}, which anything else in the JVM (an agent included) may also draw from;
 * runs must stay bit-repeatable regardless.
 */
final class SeededBatchSampler implements Sampler {

    private final Random random;
    private final int batchSize;

    SeededBatchSampler(long seed, int batchSize) {
        this.random = new Random(seed);
        this.batchSize = batchSize;
    }

    @Override
    public Iterator<List<Long>> sample(RandomAccessDataset dataset) {
        int size = Math.toIntExact(dataset.size());
        long[] order = new long[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        for (int i = size - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return new Iterator<>() {
            private int next;

            @Override
            public boolean hasNext() {
                return next < size;
            }

            @Override
            public List<Long> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int end = Math.min(size, next + batchSize);
                List<Long> batch = new ArrayList<>(end - next);
                for (int i = next; i < end; i++) {
                    batch.add(order[i]);
                }
                next = end;
                return batch;
            }
        };
    }

    @Override
    public int getBatchSize() {
        return batchSize;
    }
}
