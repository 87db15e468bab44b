package io.gradguard.core.config;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Value types of keys that hold free text: labels, regular expressions, environment variable names. */
final class TextValueTypes {

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private TextValueTypes() {}

    /**
     * Free text, trimmed, without control characters.
     *
     * @param maxLength the longest accepted text
     * @param accepted what the help says, e.g. {@code 1..128 characters}
     * @return the type
     */
    static ValueType<String> text(int maxLength, String accepted) {
        return ValueTypes.simple(accepted, raw -> {
            String text = raw.text().trim();
            if (text.isEmpty()) {
                throw Values.invalid(raw, "is empty; use " + accepted);
            }
            if (text.length() > maxLength || text.chars().anyMatch(Character::isISOControl)) {
                throw Values.invalid(raw, "is not usable; use " + accepted + " without control characters");
            }
            return text;
        });
    }

    /**
     * A Java regular expression.
     *
     * @return the type
     */
    static ValueType<Pattern> regex() {
        return new ValueType<>() {
            @Override
            public Pattern parse(RawValue raw) {
                String text = raw.text().trim();
                if (text.isEmpty()) {
                    throw Values.invalid(raw, "is empty; use a Java regular expression such as .*");
                }
                try {
                    return Pattern.compile(text);
                } catch (PatternSyntaxException e) {
                    throw Values.invalid(
                            raw,
                            "is not a valid regular expression (" + Values.shown(e.getDescription())
                                    + " at index " + e.getIndex()
                                    + "); fix it or quote the value in agent args if it holds a comma");
                } catch (RuntimeException | StackOverflowError e) {
                    // Pattern.compile can overflow the stack on pathological input.
                    throw Values.invalid(raw, "is not a usable regular expression; simplify it");
                }
            }

            @Override
            public String accepted() {
                return "Java regular expression";
            }

            @Override
            public String format(Pattern value) {
                return value == null ? "" : value.pattern();
            }
        };
    }

    /**
     * The name of an environment variable (never its value: secrets do not pass through config).
     *
     * @return the type
     */
    static ValueType<String> environmentName() {
        return ValueTypes.simple("name of an environment variable that is set", raw -> {
            String text = raw.text().trim();
            if (!ENV_NAME.matcher(text).matches()) {
                throw Values.invalid(
                        raw,
                        "is not an environment variable name; use letters, digits and _ such as KEYSTORE_PASSWORD");
            }
            return text;
        });
    }
}
