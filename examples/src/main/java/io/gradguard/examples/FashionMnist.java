package io.gradguard.examples;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Fashion-MNIST from IDX files in a directory (Debian's {@code dataset-fashion-mnist} layout). */
final class FashionMnist {

    static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** Train and test split of one directory. */
    record Splits(ImageSet train, ImageSet test) {}

    // Decoding 60k gzipped images takes about a second; tests and repeated in-process runs share it.
    private static final Map<Path, Splits> CACHE = new ConcurrentHashMap<>();

    private FashionMnist() {}

    /** True when all four files exist in {@code dir}, gzipped or plain. */
    static boolean isPresent(Path dir) {
        for (String name : new String[] {
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
        }) {
            if (!Files.isRegularFile(dir.resolve(name + ".gz")) && !Files.isRegularFile(dir.resolve(name))) {
                return false;
            }
        }
        return true;
    }

    static Splits load(Path dir) throws IdxFormatException {
        Path key = dir.toAbsolutePath().normalize();
        Splits cached = CACHE.get(key);
        if (cached != null) {
            return cached;
        }
        Splits loaded = new Splits(split(key, "train"), split(key, "t10k"));
        CACHE.put(key, loaded);
        return loaded;
    }

    private static ImageSet split(Path dir, String prefix) throws IdxFormatException {
        Path imagesFile = locate(dir, prefix + "-images-idx3-ubyte");
        Path labelsFile = locate(dir, prefix + "-labels-idx1-ubyte");
        IdxFile images = IdxFile.read(imagesFile, IdxFile.IMAGES_MAGIC);
        IdxFile labels = IdxFile.read(labelsFile, IdxFile.LABELS_MAGIC);
        int[] d = images.dimensions();
        if (d[1] != ImageSet.SIDE || d[2] != ImageSet.SIDE) {
            throw new IdxFormatException(imagesFile, "images are " + d[1] + "x" + d[2] + ", expected 28x28");
        }
        if (images.count() != labels.count()) {
            throw new IdxFormatException(
                    labelsFile,
                    labels.count() + " labels for " + images.count() + " images in " + imagesFile.getFileName());
        }
        byte[] l = labels.data();
        for (int i = 0; i < l.length; i++) {
            if ((l[i] & 0xff) >= ImageSet.CLASSES) {
                throw new IdxFormatException(
                        labelsFile, "label " + (l[i] & 0xff) + " at index " + i + " is not a class 0..9");
            }
        }
        return new ImageSet(images.data(), l);
    }

    private static Path locate(Path dir, String name) {
        Path gz = dir.resolve(name + ".gz");
        return Files.isRegularFile(gz) ? gz : dir.resolve(name);
    }
}
