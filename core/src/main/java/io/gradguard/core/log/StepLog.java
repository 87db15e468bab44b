package io.gradguard.core.log;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The {@code log=FILE} step log: one JSON object per optimizer step, one line each (JSON Lines),
 * so that a job that crashes leaves a record of every step it took.
 *
 * <p><b>Durability.</b> Every record is handed to the operating system with one {@code write(2)}
 * before {@link #append} returns (no Java-side buffering). A crash of the process (an exception, a
 * native abort in PyTorch, the OOM killer, {@code kill -9}) therefore loses at most the record
 * being written; the kernel's page cache still writes it out. There is no {@code fsync} per step:
 * it waits for the disk (milliseconds on a journaling file system, unbounded on network storage)
 * on the training thread at every step, and only protects against a crash of the whole machine,
 * which would lose the training state anyway.
 *
 * <p><b>Cost.</b> Written on the caller's (training) thread, encoded by hand into a buffer that is
 * reused from record to record: no background thread competes with PyTorch's, and a record is a
 * few microseconds (see {@code StepLogTest#appendCostsFewMicroseconds}).
 *
 * <p><b>Rotation.</b> When a record would take the file past {@code maxBytes}, the file is renamed
 * to {@code FILE.1} (an older {@code FILE.1} becomes {@code FILE.2}, an older {@code FILE.2} is
 * deleted) and a new {@code FILE} is started: at most {@value #KEPT_FILES} files, about
 * {@value #KEPT_FILES}·maxBytes on disk. A single record larger than {@code maxBytes} still goes
 * whole into a file of its own.
 *
 * <p><b>Failures.</b> The first I/O failure of {@link #append} prints one line,
 * {@code [gradguard] step log FILE failed: REASON; step logging off}, turns the log off and is
 * thrown as an {@link UncheckedIOException} so that the guard's fault budget counts it in
 * {@code gradguard_agent_errors_total}; every later call returns at once and never throws.
 *
 * <p>Safe to use from several threads (calls are serialized), though the guard appends from the
 * training thread only; {@link #close} may come from a shutdown hook.
 */
public final class StepLog implements AutoCloseable {

    /** Files kept by rotation: {@code FILE}, {@code FILE.1}, {@code FILE.2}. */
    public static final int KEPT_FILES = 3;

    private final Path file;
    private final long maxBytes;
    private final JsonLineEncoder encoder = new JsonLineEncoder();

    private FileOutputStream out;
    private long size;
    private boolean off;
    private IOException failure;

    private StepLog(Path file, long maxBytes, FileOutputStream out, long size) {
        this.file = file;
        this.maxBytes = maxBytes;
        this.out = out;
        this.size = size;
    }

    /**
     * Opens (creates, or appends to) the step log. Missing parent directories are created.
     *
     * @param file the log file
     * @param maxBytes the size at which the file is rotated; must be positive
     * @return the open log
     * @throws IOException if the file cannot be opened for appending: a configuration error the
     *     agent reports at start-up
     */
    public static StepLog open(Path file, long maxBytes) throws IOException {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        Path absolute = file.toAbsolutePath();
        Path parent = absolute.getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        FileOutputStream stream = new FileOutputStream(absolute.toFile(), true);
        return new StepLog(absolute, maxBytes, stream, stream.getChannel().size());
    }

    /**
     * Writes one record as one line and hands it to the operating system before returning.
     *
     * @param r the step's record
     * @throws UncheckedIOException on the first I/O failure only (see the class comment)
     */
    public synchronized void append(StepRecord r) {
        if (off) {
            return;
        }
        int length = encoder.encode(r);
        try {
            if (size > 0 && size + length > maxBytes) {
                rotate();
            }
            out.write(encoder.bytes(), 0, length);
            size += length;
        } catch (IOException | RuntimeException e) {
            IOException io = e instanceof IOException ? (IOException) e : new IOException(e.toString(), e);
            turnOff(io);
            throw new UncheckedIOException("step log " + file + " failed: " + io.getMessage(), io);
        }
    }

    /**
     * Whether the log still writes: false after an I/O failure or {@link #close}.
     *
     * @return true while records are written
     */
    public synchronized boolean active() {
        return !off;
    }

    /**
     * The failure that turned the log off, if any.
     *
     * @return the first I/O failure, or null
     */
    public synchronized IOException failure() {
        return failure;
    }

    /**
     * The file being written.
     *
     * @return the absolute path of the current log file
     */
    public Path file() {
        return file;
    }

    /** Closes the file; later appends are ignored. */
    @Override
    public synchronized void close() {
        off = true;
        closeQuietly();
    }

    private void rotate() throws IOException {
        out.close();
        out = null;
        for (int i = KEPT_FILES - 1; i >= 1; i--) {
            Path from = i == 1 ? file : numbered(i - 1);
            if (Files.exists(from)) {
                Files.move(from, numbered(i), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        out = new FileOutputStream(file.toFile(), true);
        size = 0;
    }

    private Path numbered(int n) {
        return file.resolveSibling(file.getFileName() + "." + n);
    }

    private void turnOff(IOException e) {
        off = true;
        failure = e;
        closeQuietly();
        System.err.println("[gradguard] step log " + file + " failed: " + e.getMessage() + "; step logging off");
    }

    private void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // Closing after a failure or at exit: nothing useful left to do with the error.
            }
            out = null;
        }
    }

    /**
     * Hand-written JSON, into a byte array reused from record to record. NaN and infinities become
     * {@code null} (JSON has no such numbers); strings are escaped per RFC 8259 and written as
     * UTF-8, lone surrogates as {@code \\uXXXX} so the line stays valid UTF-8.
     */
    static final class JsonLineEncoder {

        private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        private byte[] buf = new byte[1024];
        private int len;

        byte[] bytes() {
            return buf;
        }

        /** Encodes the record and its newline; returns the length in {@link #bytes()}. */
        int encode(StepRecord r) {
            len = 0;
            ascii("{\"model\":").string(r.model());
            ascii(",\"step\":").number(r.step());
            ascii(",\"time_ms\":").number(r.timeMillis());
            ascii(",\"loss\":").number(r.loss());
            ascii(",\"global_norm\":").number(r.globalNorm());
            ascii(",\"clipped_global_norm\":").number(r.clippedGlobalNorm());
            ascii(",\"clip_coefficient\":").number(r.clipCoefficient());
            ascii(",\"skipped\":").ascii(r.skipped() ? "true" : "false");
            ascii(",\"skip_reason\":").string(r.skipReason());
            ascii(",\"explosion\":").ascii(r.explosion() ? "true" : "false");
            ascii(",\"vanishing\":").ascii(r.vanishing() ? "true" : "false");
            ascii(",\"z_score\":").number(r.zScore());
            ascii(",\"top_parameters\":[");
            List<StepRecord.ParameterNorm> top = r.topParameters();
            for (int i = 0; i < top.size(); i++) {
                StepRecord.ParameterNorm p = top.get(i);
                ascii(i == 0 ? "{\"name\":" : ",{\"name\":").string(p.name());
                ascii(",\"norm\":").number(p.norm()).ascii("}");
            }
            ascii("]}\n");
            return len;
        }

        private JsonLineEncoder number(long v) {
            return ascii(Long.toString(v));
        }

        private JsonLineEncoder number(double v) {
            if (Double.isNaN(v) || Double.isInfinite(v)) {
                return ascii("null");
            }
            // Double.toString is the shortest exact form, and "1.0E-7" is a valid JSON number.
            return ascii(Double.toString(v));
        }

        private JsonLineEncoder ascii(String s) {
            int n = s.length();
            ensure(n);
            for (int i = 0; i < n; i++) {
                buf[len++] = (byte) s.charAt(i);
            }
            return this;
        }

        private JsonLineEncoder string(String s) {
            if (s == null) {
                return ascii("null");
            }
            ensure(s.length() * 6 + 2);
            buf[len++] = '"';
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '"' || c == '\\') {
                    buf[len++] = '\\';
                    buf[len++] = (byte) c;
                } else if (c < 0x20) {
                    escapeControl(c);
                } else if (c < 0x80) {
                    buf[len++] = (byte) c;
                } else if (c < 0x800) {
                    buf[len++] = (byte) (0xC0 | (c >> 6));
                    buf[len++] = (byte) (0x80 | (c & 0x3F));
                } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, s.charAt(++i));
                    buf[len++] = (byte) (0xF0 | (cp >> 18));
                    buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                    buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                    buf[len++] = (byte) (0x80 | (cp & 0x3F));
                } else if (Character.isSurrogate(c)) {
                    unicodeEscape(c);
                } else {
                    buf[len++] = (byte) (0xE0 | (c >> 12));
                    buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                    buf[len++] = (byte) (0x80 | (c & 0x3F));
                }
            }
            buf[len++] = '"';
            return this;
        }

        private void escapeControl(char c) {
            switch (c) {
                case '\n' -> { buf[len++] = '\\'; buf[len++] = 'n'; }
                case '\r' -> { buf[len++] = '\\'; buf[len++] = 'r'; }
                case '\t' -> { buf[len++] = '\\'; buf[len++] = 't'; }
                case '\b' -> { buf[len++] = '\\'; buf[len++] = 'b'; }
                case '\f' -> { buf[len++] = '\\'; buf[len++] = 'f'; }
                default -> unicodeEscape(c);
            }
        }

        private void unicodeEscape(char c) {
            buf[len++] = '\\';
            buf[len++] = 'u';
            buf[len++] = HEX[(c >> 12) & 0xF];
            buf[len++] = HEX[(c >> 8) & 0xF];
            buf[len++] = HEX[(c >> 4) & 0xF];
            buf[len++] = HEX[c & 0xF];
        }

        private void ensure(int extra) {
            if (len + extra > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
            }
        }
    }
}
