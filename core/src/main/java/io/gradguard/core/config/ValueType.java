package io.gradguard.core.config;

/**
 * How one configuration key's text becomes a typed, validated value.
 *
 * <p>{@link #parse} turns every problem into a one-line {@link ConfigException} naming the key, the
 * value as written, where it was written and what to write instead. Implementations are immutable;
 * the common ones come from {@link ValueTypes}.
 *
 * @param <T> the type of the value
 */
public interface ValueType<T> {

    /**
     * Reads a value as the user wrote it.
     *
     * @param raw the key, its text and where it was written; the text is never null here (an
     *     explicit YAML null means "unset" and is handled by the loader)
     * @return the typed value
     * @throws ConfigException naming the key, the value and the fix
     */
    T parse(RawValue raw);

    /**
     * What the key accepts, as the help text and the error messages say it.
     *
     * @return e.g. {@code integer >= 0} or {@code skip | zero | none | fail}
     */
    String accepted();

    /**
     * Checks a value given in code (a policy built directly, not from configuration) against the
     * same range as {@link #parse}, so that both paths accept exactly the same values.
     *
     * @param key the key's name, for the message
     * @param value the value
     * @throws IllegalArgumentException when it is out of range
     */
    default void check(String key, T value) {}

    /**
     * A value as the help text, the README and the exported labels show it.
     *
     * @param value a value of this type, or null for "not set"
     * @return its text
     */
    default String format(T value) {
        return String.valueOf(value);
    }
}
