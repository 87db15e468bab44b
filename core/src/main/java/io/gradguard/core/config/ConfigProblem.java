package io.gradguard.core.config;

/**
 * A setting the agent could not use as written, found while loading.
 *
 * <p>An error ({@code warning == false}) is fatal to a strict load; at start it switches off its own
 * part of the agent (the key takes its default). A warning (a setting that the chosen policy does
 * not read, say) never stops anything; the agent prints it.
 *
 * @param key the key, or the source, the problem is about
 * @param message one line starting with {@code gradguard:} that names the value and the fix
 * @param part the part of the agent it concerns
 * @param warning whether it is only worth saying
 */
public record ConfigProblem(String key, String message, Part part, boolean warning) {

    /**
     * An error.
     *
     * @param key the key or source
     * @param message one line starting with {@code gradguard:}
     * @param part the part that goes without it
     */
    public ConfigProblem(String key, String message, Part part) {
        this(key, message, part, false);
    }

    /**
     * A warning.
     *
     * @param key the key
     * @param message one line starting with {@code gradguard:}
     * @param part the part it concerns
     * @return the problem
     */
    public static ConfigProblem warning(String key, String message, Part part) {
        return new ConfigProblem(key, message, part, true);
    }

    static ConfigProblem of(ConfigException e, String key, Part part) {
        return new ConfigProblem(key, e.getMessage(), part);
    }
}
