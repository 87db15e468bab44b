package io.gradguard.core.recorder;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The incident files in {@code incidents.dir}, for the writer's thread: created with {@code O_EXCL}
 * semantics under a free name, replaced by an atomic rename, never through a link.
 */
final class IncidentDirectory {

    private final Path dir;

    IncidentDirectory(Path dir) {
        this.dir = dir;
    }

    /** What makes a directory unusable, or null: it need not exist yet, but must be creatable. */
    static String problem(Path dir) {
        if (Files.isSymbolicLink(dir)) {
            return "is a symbolic link, which the flight recorder does not follow; name the directory itself";
        }
        if (Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                return "is not a directory";
            }
            return Files.isWritable(dir) ? null : "is not writable";
        }
        Path ancestor = dir.getParent();
        while (ancestor != null && !Files.exists(ancestor)) {
            ancestor = ancestor.getParent();
        }
        if (ancestor == null || !Files.isDirectory(ancestor)) {
            return "cannot be created (" + (ancestor == null ? "no existing parent" : ancestor + " is not a directory")
                    + ")";
        }
        return Files.isWritable(ancestor) ? null : "cannot be created (" + ancestor + " is not writable)";
    }

    /** Creates the incident's file under a name no file or link holds yet, and sets {@code incident.file}. */
    void create(Incident incident, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        String problem = problem(dir);
        if (problem != null) {
            throw new IOException(dir + " " + problem);
        }
        String base = "incident-" + safe(incident.model) + "-" + safe(incident.run) + "-step" + incident.step;
        for (int n = 1; ; n++) {
            Path file = dir.resolve(base + (n == 1 ? "" : "-" + n) + ".json");
            try (OutputStream out = Files.newOutputStream(
                    file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                incident.file = file;
                out.write(bytes);
                return;
            } catch (FileAlreadyExistsException e) {
                if (n >= IncidentWriter.MAX_FILES) {
                    throw e;
                }
            }
        }
    }

    /** Replaces the incident's file with a new version by an atomic rename. */
    void replace(Incident incident, byte[] bytes) throws IOException {
        Path file = incident.file;
        if (Files.isSymbolicLink(file) || !Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
            throw new LinkFound(
                    file + " is no longer the file the recorder wrote (a link or other file is in its place)");
        }
        Path temporary = Files.createTempFile(dir, ".incident-", ".tmp");
        try {
            Files.write(temporary, bytes);
            try {
                Files.setPosixFilePermissions(
                        temporary, Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the temporary file's own permissions stay
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    /** A name as part of a file name: letters, digits, dot, dash and underscore, at most 64. */
    static String safe(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        return s.length() > 64 ? s.substring(0, 64) : s;
    }

    /** An incident file found replaced by something else: that incident only is given up. */
    static final class LinkFound extends IOException {
        LinkFound(String message) {
            super(message);
        }
    }
}
