package io.gradguard.agent.runtime;

import io.gradguard.core.console.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Set;

/**
 * The one {@code user:password} pair that HTTP basic auth on the endpoint accepts, read from the
 * file named by {@code auth_file} (never from the command line, where {@code ps} would show it).
 * Only a SHA-256 digest of the pair is kept, and presented credentials are compared digest to
 * digest with {@link MessageDigest#isEqual}, so the time a check takes says nothing about how much
 * of the secret, or its length, a guess got right.
 */
final class EndpointCredentials {

    /** A credentials file is one short line; anything bigger is not what the user meant to point at. */
    private static final long MAX_FILE_BYTES = 4096;

    private final byte[] expectedDigest;

    private EndpointCredentials(byte[] expectedDigest) {
        this.expectedDigest = expectedDigest;
    }

    /**
     * Reads the file: its first line is {@code user:password} (the password may hold colons and
     * spaces; only the line ending is stripped). Warns on stderr when group or others may read it.
     *
     * @throws IOException if the file cannot be read or holds no {@code user:password} line; the
     *     caller then serves no endpoint at all rather than an unauthenticated one
     */
    static EndpointCredentials read(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IOException(
                    "auth_file " + file + " is over " + MAX_FILE_BYTES + " bytes; it must hold one user:password line");
        }
        warnIfOthersCanRead(file);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int end = text.indexOf('\n');
        String line = end < 0 ? text : text.substring(0, end);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        int colon = line.indexOf(':');
        if (colon <= 0 || colon == line.length() - 1) {
            // Never echo the line: it may be a password with a typo.
            throw new IOException("auth_file " + file + " does not start with a user:password line (both non-empty)");
        }
        return new EndpointCredentials(sha256(line.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Whether an {@code Authorization} header value carries the configured pair.
     *
     * @param authorization the header value, or null when the request had none
     */
    boolean accepts(String authorization) {
        byte[] presented = new byte[0];
        if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                presented =
                        Base64.getDecoder().decode(authorization.substring(6).trim());
            } catch (IllegalArgumentException e) {
                presented = new byte[0];
            }
        }
        // Digest even a missing or malformed header, so every refusal costs the same time.
        return MessageDigest.isEqual(expectedDigest, sha256(presented));
    }

    private static void warnIfOthersCanRead(Path file) {
        PosixFileAttributeView view = Files.getFileAttributeView(file, PosixFileAttributeView.class);
        if (view == null) {
            return; // not a POSIX file system: nothing we can check portably
        }
        try {
            Set<PosixFilePermission> perms = view.readAttributes().permissions();
            if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.GROUP_READ)) {
                Console.warn("auth_file " + file + " is readable by "
                        + (perms.contains(PosixFilePermission.OTHERS_READ) ? "everyone" : "its group")
                        + "; restrict it with chmod 600");
            }
        } catch (IOException e) {
            // The read below reports an unreadable file; the warning is best effort.
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
