package io.gradguard.examples;

/**
 * Labelled 28x28 grey images held on the host as unsigned bytes (0..255), one row of 784 per image.
 *
 * <p>Bytes rather than floats so a cached Fashion-MNIST costs 55 MB of heap, not 220 MB; conversion
 * to normalised floats happens once per run in native memory.
 */
record ImageSet(byte[] pixels, byte[] labels) {

    static final int SIDE = 28;
    static final int PIXELS = SIDE * SIDE;
    static final int CLASSES = 10;

    int size() {
        return labels.length;
    }

    /** The first {@code n} images, or all of them when {@code n <= 0} or {@code n >= size()}. */
    ImageSet first(int n) {
        if (n <= 0 || n >= size()) {
            return this;
        }
        return new ImageSet(java.util.Arrays.copyOf(pixels, n * PIXELS), java.util.Arrays.copyOf(labels, n));
    }
}
