package io.gradguard.core.console;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's lines on stderr, all with the {@code [gradguard]} prefix: the agent never writes to
 * stdout (the job's) and owns no logging framework (the job's may be anything or nothing).
 */
public final class Console {

    /** The prefix of every line. */
    public static final String PREFIX = "[gradguard] ";

    private static final Set<String> SAID = ConcurrentHashMap.newKeySet();
    private static volatile PrintStream redirected;

    private Console() {}

    /**
     * One line.
     *
     * @param message the text after the prefix
     */
    public static void info(String message) {
        line(PREFIX + message);
    }

    /**
     * One line marked as a warning.
     *
     * @param message the text after {@code WARNING: }
     */
    public static void warn(String message) {
        line(PREFIX + "WARNING: " + message);
    }

    /**
     * Text and its line end in one write: {@code println} writes them apart, and a job printing on
     * another thread into the same terminal or pipe could land between them.
     */
    private static void line(String text) {
        PrintStream out = stream();
        out.print(text + "\n");
        out.flush();
    }

    /**
     * One line, the first time a kind of event happens in this JVM; later ones are not said.
     *
     * @param kind what makes two events the same, e.g. {@code "dropped-parameters:mlp"}
     * @param message the text after the prefix
     * @return whether it was said now
     */
    public static boolean once(String kind, String message) {
        if (SAID.add(kind)) {
            info(message);
            return true;
        }
        return false;
    }

    /**
     * A message that must not be missed among the JVM's own warnings: framed by rule lines.
     *
     * @param lines the lines, each said with the prefix
     */
    public static void loud(String... lines) {
        String rule = PREFIX + "!".repeat(78);
        StringBuilder text = new StringBuilder(rule).append('\n');
        for (String line : lines) {
            text.append(PREFIX).append("!! ").append(line).append('\n');
        }
        line(text.append(rule).toString());
    }

    /**
     * Where lines go (tests capture them).
     *
     * @param stream the stream
     */
    public static void redirect(PrintStream stream) {
        redirected = stream;
    }

    /** System.err as it is now: a job (or a test) may replace it after the agent started. */
    private static PrintStream stream() {
        PrintStream r = redirected;
        return r != null ? r : System.err;
    }
}
