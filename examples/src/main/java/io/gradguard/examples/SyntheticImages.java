package io.gradguard.examples;

import java.util.SplittableRandom;

/**
 * A learnable 10-class stand-in for Fashion-MNIST: each class is a fixed random blob pattern, each
 * image its class pattern under random shift, contrast and noise. A linear model reaches roughly
 * 90 %, so it exercises training without the real files.
 */
final class SyntheticImages {

    static final int TRAIN_SIZE = 60_000;
    static final int TEST_SIZE = 10_000;

    private SyntheticImages() {}

    /** Train and test splits of at most {@code trainLimit}/{@code testLimit} images (<= 0: full size). */
    static FashionMnist.Splits generate(long seed, int trainLimit, int testLimit) {
        SplittableRandom random = new SplittableRandom(seed);
        float[][] prototypes = new float[ImageSet.CLASSES][];
        for (int c = 0; c < ImageSet.CLASSES; c++) {
            prototypes[c] = prototype(random);
        }
        int train = trainLimit > 0 ? Math.min(trainLimit, TRAIN_SIZE) : TRAIN_SIZE;
        int test = testLimit > 0 ? Math.min(testLimit, TEST_SIZE) : TEST_SIZE;
        return new FashionMnist.Splits(sample(prototypes, train, random), sample(prototypes, test, random));
    }

    private static float[] prototype(SplittableRandom random) {
        float[] p = new float[ImageSet.PIXELS];
        for (int blob = 0; blob < 4; blob++) {
            double cy = 4 + random.nextDouble() * 20;
            double cx = 4 + random.nextDouble() * 20;
            double r = 2 + random.nextDouble() * 5;
            for (int y = 0; y < ImageSet.SIDE; y++) {
                for (int x = 0; x < ImageSet.SIDE; x++) {
                    double d2 = ((y - cy) * (y - cy) + (x - cx) * (x - cx)) / (r * r);
                    p[y * ImageSet.SIDE + x] += (float) Math.exp(-d2);
                }
            }
        }
        return p;
    }

    private static ImageSet sample(float[][] prototypes, int n, SplittableRandom random) {
        byte[] pixels = new byte[n * ImageSet.PIXELS];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int c = random.nextInt(ImageSet.CLASSES);
            labels[i] = (byte) c;
            int dy = random.nextInt(5) - 2;
            int dx = random.nextInt(5) - 2;
            double contrast = 0.5 + 0.5 * random.nextDouble();
            for (int y = 0; y < ImageSet.SIDE; y++) {
                for (int x = 0; x < ImageSet.SIDE; x++) {
                    int sy = y - dy;
                    int sx = x - dx;
                    double v = sy >= 0 && sy < ImageSet.SIDE && sx >= 0 && sx < ImageSet.SIDE
                            ? contrast * prototypes[c][sy * ImageSet.SIDE + sx]
                            : 0;
                    v += 0.35 * random.nextDouble();
                    pixels[i * ImageSet.PIXELS + y * ImageSet.SIDE + x] = (byte) Math.round(255 * Math.min(1.0, v));
                }
            }
        }
        return new ImageSet(pixels, labels);
    }
}
