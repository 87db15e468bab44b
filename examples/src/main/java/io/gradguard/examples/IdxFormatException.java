package io.gradguard.examples;

import java.nio.file.Path;

/** A data file that is missing, unreadable or not the IDX content it should be; the message is one line. */
final class IdxFormatException extends Exception {

    private static final long serialVersionUID = 1L;

    IdxFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
