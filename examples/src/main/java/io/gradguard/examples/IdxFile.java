package io.gradguard.examples;

import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An unsigned-byte IDX file (the MNIST / Fashion-MNIST format), gzip-compressed or plain.
 *
 * <p>Our own reader because DJL's dataset classes insist on downloading, which cannot happen here.
 * Every inconsistency becomes an {@link IdxFormatException} whose message names the file and the
 * problem, so the CLI can print one line instead of a stack trace.
 *
 * @param dimensions the sizes of each dimension, outermost first
 * @param data the values, row-major, unsigned bytes stored as Java bytes
 */
record IdxFile(int[] dimensions, byte[] data) {

    /** IDX type code of unsigned bytes, the only element type Fashion-MNIST uses. */
    private static final int UNSIGNED_BYTE = 0x08;

    static final int LABELS_MAGIC = 0x00000801;
    static final int IMAGES_MAGIC = 0x00000803;

    /** Reads {@code file}, requiring the magic number {@code expectedMagic} (it fixes the rank). */
    static IdxFile read(Path file, int expectedMagic) throws IdxFormatException {
        byte[] bytes = readMaybeGzipped(file);
        if (bytes.length < 4) {
            throw new IdxFormatException(file, "truncated: " + bytes.length + " bytes, not even a magic number");
        }
        int magic = bigEndianInt(bytes, 0);
        if (magic != expectedMagic) {
            throw new IdxFormatException(
                    file,
                    String.format(
                            "bad magic number 0x%08x (expected 0x%08x, an IDX file of unsigned bytes with %d dimension%s)",
                            magic, expectedMagic, expectedMagic & 0xff, (expectedMagic & 0xff) == 1 ? "" : "s"));
        }
        if (((magic >>> 8) & 0xff) != UNSIGNED_BYTE) {
            throw new IdxFormatException(file, "unsupported element type");
        }
        int rank = magic & 0xff;
        int headerLength = 4 + 4 * rank;
        if (bytes.length < headerLength) {
            throw new IdxFormatException(file, "truncated header: " + bytes.length + " of " + headerLength + " bytes");
        }
        int[] dims = new int[rank];
        long expectedLength = 1;
        for (int i = 0; i < rank; i++) {
            dims[i] = bigEndianInt(bytes, 4 + 4 * i);
            if (dims[i] <= 0) {
                throw new IdxFormatException(file, "dimension " + i + " is " + dims[i] + ", must be positive");
            }
            expectedLength *= dims[i];
        }
        long actualLength = bytes.length - (long) headerLength;
        if (actualLength < expectedLength) {
            throw new IdxFormatException(
                    file,
                    "truncated: header promises " + expectedLength + " data bytes " + Arrays.toString(dims)
                            + " but the file holds " + actualLength);
        }
        if (actualLength > expectedLength) {
            throw new IdxFormatException(
                    file,
                    (actualLength - expectedLength) + " unexpected trailing bytes after " + expectedLength
                            + " data bytes " + Arrays.toString(dims));
        }
        return new IdxFile(dims, Arrays.copyOfRange(bytes, headerLength, bytes.length));
    }

    private static byte[] readMaybeGzipped(Path file) throws IdxFormatException {
        byte[] raw;
        try {
            raw = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IdxFormatException(file, "no such file");
        } catch (IOException e) {
            throw new IdxFormatException(file, "cannot read: " + e.getMessage());
        }
        boolean gzip = raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
        if (!gzip) {
            return raw;
        }
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw), 1 << 16)) {
            return in.readAllBytes();
        } catch (EOFException e) {
            throw new IdxFormatException(file, "truncated gzip stream");
        } catch (ZipException e) {
            throw new IdxFormatException(file, "corrupt gzip stream (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new IdxFormatException(file, "cannot decompress: " + e.getMessage());
        }
    }

    private static int bigEndianInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    /** The number of items, i.e. the outermost dimension. */
    int count() {
        return dimensions[0];
    }
}
