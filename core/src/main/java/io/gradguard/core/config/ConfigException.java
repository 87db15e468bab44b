package io.gradguard.core.config;

/**
 * A configuration the agent refuses. The message is always ONE line that starts with
 * {@code gradguard:} and names the key, the bad value and what to write instead, so the agent can
 * print it as is and a log search for the key finds it.
 */
public final class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message the reason without the {@code gradguard: } prefix; line breaks are escaped
     */
    public ConfigException(String message) {
        super("gradguard: " + oneLine(message));
    }

    /** Line breaks would split the message across log records, so they are escaped. */
    static String oneLine(String text) {
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029' || c == '\u0085') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }
}
