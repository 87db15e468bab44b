package io.gradguard.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.Set;

/**
 * The step log's file, used by its writer thread alone: opens it (without following a final link
 * unless asked), writes each record with one {@code write(2)} and rotates it at {@code maxBytes}.
 */
final class StepLogFile {

    private final Path file;
    private final long maxBytes;
    private final boolean followSymlinks;
    private final JsonLineEncoder encoder = new JsonLineEncoder();
    private FileChannel out;
    private long size;
    private boolean rotates;

    StepLogFile(Path file, long maxBytes, boolean followSymlinks) {
        this.file = file;
        this.maxBytes = maxBytes;
        this.followSymlinks = followSymlinks;
    }

    /** Creates missing parent directories and opens (creates, or appends to) the file. */
    void open() throws IOException {
        Path parent = file.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        out = openChannel();
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class, linkOptions());
        rotates = attributes.isRegularFile();
        size = rotates ? out.size() : 0;
    }

    private FileChannel openChannel() throws IOException {
        Set<OpenOption> options =
                new HashSet<>(Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND));
        if (!followSymlinks) {
            options.add(LinkOption.NOFOLLOW_LINKS);
        }
        try {
            return FileChannel.open(file, options);
        } catch (IOException e) {
            // The JDK reports O_NOFOLLOW's ELOOP as a bare IOException: name the cause instead.
            if (!followSymlinks && Files.isSymbolicLink(file)) {
                throw new IOException(
                        "it is a symbolic link, which the step log does not follow (a link planted in a"
                                + " shared directory could point at a file this job must not write); log to a path without a"
                                + " link, or set log_follow_symlinks=true",
                        e);
            }
            throw e;
        }
    }

    private LinkOption[] linkOptions() {
        return followSymlinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
    }

    /** Writes one record and its newline, rotating first when it would take the file past maxBytes. */
    void write(StepRecord r) throws IOException {
        int length = encoder.encode(r);
        if (rotates && size > 0 && size + length > maxBytes) {
            rotate();
        }
        ByteBuffer bytes = ByteBuffer.wrap(encoder.bytes(), 0, length);
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
        size += length;
    }

    private void rotate() throws IOException {
        out.close();
        out = null;
        for (int i = StepLog.KEPT_FILES - 1; i >= 1; i--) {
            Path from = i == 1 ? file : numbered(i - 1);
            if (Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
                // A rename replaces a link planted at the target; it never writes through it.
                Files.move(from, numbered(i), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        out = openChannel();
        size = 0;
    }

    private Path numbered(int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
    }

    void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // Closing after a failure or at exit: nothing useful left to do with the error.
            }
            out = null;
        }
    }
}
