package io.gradguard.core.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One configuration key, declared once: its name, the type and range of its value, its default
 * and its one-line documentation. The loaders, the validation, the {@code help} text and the
 * README's options table all come from these declarations.
 *
 * <p>A key is declared next to the code that reads it (a policy declares its own settings) and is
 * made known to the loader by a {@link ConfigSchema}.
 *
 * @param <T> the type of the value
 */
public final class ConfigKey<T> {

    static final String PROPERTY_PREFIX = "gradguard.";
    static final String ENV_PREFIX = "GRADGUARD_";

    private final String name;
    private final ValueType<T> type;
    private final T defaultValue;
    private final String defaultText;
    private final boolean optional;
    private final String doc;
    private final Part part;

    private ConfigKey(
            String name,
            ValueType<T> type,
            T defaultValue,
            String defaultText,
            boolean optional,
            String doc,
            Part part) {
        this.name = Objects.requireNonNull(name, "name");
        this.type = Objects.requireNonNull(type, "type");
        this.defaultValue = defaultValue;
        this.defaultText = defaultText;
        this.optional = optional;
        this.doc = Objects.requireNonNull(doc, "doc");
        this.part = Objects.requireNonNull(part, "part");
    }

    /**
     * A key with a default value.
     *
     * @param name dotted name as written in agent args, e.g. {@code policy.max_norm}
     * @param type how its text is read and checked
     * @param defaultValue the value when no source sets the key
     * @param doc what the key does, one line
     * @param <T> the value type
     * @return the key
     */
    public static <T> ConfigKey<T> of(String name, ValueType<T> type, T defaultValue, String doc) {
        return new ConfigKey<>(
                name,
                type,
                Objects.requireNonNull(defaultValue, "defaultValue"),
                type.format(defaultValue),
                false,
                doc,
                Part.MONITORING);
    }

    /**
     * A key that is off unless set; an empty value, {@code off} or a YAML null also mean off.
     *
     * @param name dotted name
     * @param type how its text is read and checked
     * @param offText what the default means, as the help shows it, e.g. {@code (no auth)}
     * @param doc what the key does, one line
     * @param <T> the value type
     * @return the key, whose value is null when off
     */
    public static <T> ConfigKey<T> optional(String name, ValueType<T> type, String offText, String doc) {
        return new ConfigKey<>(name, type, null, offText, true, doc, Part.MONITORING);
    }

    /**
     * This key with another text for its default in the help (when the value alone does not say it,
     * e.g. a generated run id).
     *
     * @param text the default as the help shows it
     * @return a copy
     */
    public ConfigKey<T> withDefaultText(String text) {
        return new ConfigKey<>(name, type, defaultValue, text, optional, doc, part);
    }

    /**
     * This key as a setting of another part of the agent: a bad value then switches off that part
     * (or, for {@link Part#PROTECTION}, the policy), never the whole agent.
     *
     * @param owner the part that reads the key
     * @return a copy
     */
    public ConfigKey<T> in(Part owner) {
        return new ConfigKey<>(name, type, defaultValue, defaultText, optional, doc, owner);
    }

    /** @return the part of the agent that reads this key */
    public Part part() {
        return part;
    }

    /**
     * Reads the key's value as written.
     *
     * @param raw the key's text and where it came from
     * @return the value; null for an optional key switched off
     */
    T parse(RawValue raw) {
        if (optional && Values.isOff(raw)) {
            return null;
        }
        RawValue present = raw.text() == null ? new RawValue(raw.key(), "", raw.origin()) : raw;
        return type.parse(present);
    }

    /** @return the dotted name, e.g. {@code policy.max_norm} */
    public String name() {
        return name;
    }

    /** @return the part after the section, e.g. {@code max_norm} */
    public String leaf() {
        return name.substring(name.lastIndexOf('.') + 1);
    }

    /** @return the value type */
    public ValueType<T> type() {
        return type;
    }

    /** @return the default value; null for an optional key */
    public T defaultValue() {
        return defaultValue;
    }

    /** @return the default as the help shows it */
    public String defaultText() {
        return defaultText;
    }

    /** @return what is accepted, as the help says it */
    public String accepted() {
        return optional ? type.accepted() + ", or empty / off" : type.accepted();
    }

    /** @return whether the key is off unless set */
    public boolean isOptional() {
        return optional;
    }

    /** @return the one-line documentation */
    public String doc() {
        return doc;
    }

    /** @return the system property, e.g. {@code gradguard.policy.max_norm} */
    public String propertyName() {
        return PROPERTY_PREFIX + name;
    }

    /** @return the environment variable, e.g. {@code GRADGUARD_POLICY_MAX_NORM} */
    public String environmentName() {
        return ENV_PREFIX + name.replace('.', '_').replace('-', '_').toUpperCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return name;
    }
}
