package io.gradguard.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {

    @TempDir
    Path dir;

    /** A 2 x 2 x 3 image file whose values are 0..11. */
    static byte[] images() {
        ByteBuffer b = ByteBuffer.allocate(16 + 12)
                .putInt(IdxFile.IMAGES_MAGIC)
                .putInt(2)
                .putInt(2)
                .putInt(3);
        for (int i = 0; i < 12; i++) {
            b.put((byte) i);
        }
        return b.array();
    }

    static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(plain);
        }
        return bytes.toByteArray();
    }

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    @Test
    void readsPlainAndGzippedFilesAlike() throws Exception {
        IdxFile plain = IdxFile.read(write("a", images()), IdxFile.IMAGES_MAGIC);
        IdxFile gzipped = IdxFile.read(write("a.gz", gzip(images())), IdxFile.IMAGES_MAGIC);
        assertArrayEquals(new int[] {2, 2, 3}, plain.dimensions());
        assertEquals(2, plain.count());
        assertEquals(11, plain.data()[11]);
        assertArrayEquals(plain.data(), gzipped.data());
        assertArrayEquals(plain.dimensions(), gzipped.dimensions());
    }

    @Test
    void rejectsLabelsFileWhereImagesAreExpected() throws Exception {
        byte[] labels = ByteBuffer.allocate(8 + 2)
                .putInt(IdxFile.LABELS_MAGIC)
                .putInt(2)
                .put((byte) 1)
                .put((byte) 2)
                .array();
        Path file = write("labels", labels);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file, IdxFile.IMAGES_MAGIC));
        assertEquals(
                file + ": bad magic number 0x00000801 (expected 0x00000803, an IDX file of unsigned bytes"
                        + " with 3 dimensions)",
                e.getMessage());
    }

    @Test
    void rejectsTruncatedData() throws Exception {
        Path file = write("short", Arrays.copyOf(images(), 16 + 7));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file, IdxFile.IMAGES_MAGIC));
        assertEquals(
                file + ": truncated: header promises 12 data bytes [2, 2, 3] but the file holds 7", e.getMessage());
    }

    @Test
    void rejectsTruncatedGzipStream() throws Exception {
        byte[] compressed = gzip(images());
        Path file = write("short.gz", Arrays.copyOf(compressed, compressed.length - 12));
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file, IdxFile.IMAGES_MAGIC));
        assertEquals(file + ": truncated gzip stream", e.getMessage());
    }

    @Test
    void rejectsTruncatedHeaderAndTrailingBytes() throws Exception {
        Path header = write("header", Arrays.copyOf(images(), 10));
        assertEquals(
                header + ": truncated header: 10 of 16 bytes",
                assertThrows(IdxFormatException.class, () -> IdxFile.read(header, IdxFile.IMAGES_MAGIC))
                        .getMessage());
        Path trailing = write("trailing", Arrays.copyOf(images(), 16 + 12 + 5));
        assertEquals(
                trailing + ": 5 unexpected trailing bytes after 12 data bytes [2, 2, 3]",
                assertThrows(IdxFormatException.class, () -> IdxFile.read(trailing, IdxFile.IMAGES_MAGIC))
                        .getMessage());
    }

    @Test
    void reportsMissingFile() {
        Path missing = dir.resolve("nothing");
        assertEquals(
                missing + ": no such file",
                assertThrows(IdxFormatException.class, () -> IdxFile.read(missing, IdxFile.LABELS_MAGIC))
                        .getMessage());
    }
}
