package io.gradguard.core.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Typed reading of {@link RawValue}s; every failure is a one-line {@link ConfigException}. */
final class Values {

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final int SHOWN_MAX = 200;

    private Values() {}

    /** A user's value as it appears in a message: escaped, and cut when a fuzzer made it huge. */
    static String shown(String text) {
        if (text == null) {
            return "null";
        }
        String cut = text.length() > SHOWN_MAX ? text.substring(0, SHOWN_MAX) + "..." : text;
        return ConfigException.oneLine(cut);
    }

    static ConfigException invalid(RawValue raw, String problem) {
        return new ConfigException(raw.key() + "=" + shown(raw.text()) + " " + problem + " (from " + raw.origin() + ")");
    }

    private static String required(RawValue raw, String accepted) {
        if (raw.text() == null || raw.text().isBlank()) {
            throw invalid(raw, "is empty; use " + accepted);
        }
        return raw.text().trim();
    }

    /** Numbers may be written as int or float (YAML users write {@code 1000.0} or {@code 1e3}). */
    static double number(RawValue raw, String accepted) {
        String text = required(raw, accepted);
        if (!DECIMAL.matcher(text).matches()) {
            throw invalid(raw, "is not a number; use " + accepted);
        }
        double value = Double.parseDouble(text);
        if (!Double.isFinite(value)) {
            throw invalid(raw, "is too large; use " + accepted);
        }
        return value;
    }

    static long integer(RawValue raw, long min, long max, String accepted) {
        double value = number(raw, accepted);
        if (value != Math.rint(value)) {
            throw invalid(raw, "is not a whole number; use " + accepted);
        }
        if (value < min || value > max) {
            throw invalid(raw, "is out of range; use " + accepted);
        }
        return (long) value;
    }

    static double positive(RawValue raw) {
        double value = number(raw, "a number > 0");
        if (!(value > 0)) {
            throw invalid(raw, "must be > 0");
        }
        return value;
    }

    static boolean bool(RawValue raw) {
        String text = required(raw, "true or false").toLowerCase(Locale.ROOT);
        return switch (text) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> throw invalid(raw, "is not a boolean; use true or false");
        };
    }

    static String oneOf(RawValue raw, java.util.List<String> choices, String what) {
        String text = required(raw, String.join(", ", choices)).toLowerCase(Locale.ROOT);
        if (!choices.contains(text)) {
            throw invalid(raw, "is not " + what + "; use one of " + String.join(", ", choices));
        }
        return text;
    }

    static Pattern regex(RawValue raw) {
        String text = required(raw, "a Java regular expression such as .*");
        try {
            return Pattern.compile(text);
        } catch (PatternSyntaxException e) {
            throw invalid(raw, "is not a valid regular expression (" + shown(e.getDescription()) + " at index "
                    + e.getIndex() + "); fix it or quote the value in agent args if it holds a comma");
        } catch (RuntimeException | StackOverflowError e) {
            // Pattern.compile can overflow the stack on pathological input; report it like a syntax error.
            throw invalid(raw, "is not a usable regular expression; simplify it");
        }
    }

    /** Empty, {@code off} and YAML null mean "not set" for optional paths and addresses. */
    static boolean isOff(RawValue raw) {
        return raw.text() == null || raw.text().isBlank() || raw.text().trim().equalsIgnoreCase("off");
    }

    static Path path(RawValue raw) {
        try {
            return Path.of(raw.text().trim());
        } catch (InvalidPathException e) {
            throw invalid(raw, "is not a valid path (" + shown(e.getReason()) + "); use a plain file path");
        }
    }

    static String environmentName(RawValue raw) {
        String text = required(raw, "the name of an environment variable");
        if (!ENV_NAME.matcher(text).matches()) {
            throw invalid(raw, "is not an environment variable name; use letters, digits and _ such as KEYSTORE_PASSWORD");
        }
        return text;
    }

    /** {@code 67108864}, {@code 64MiB}, {@code 512 KiB}. */
    static long bytes(RawValue raw, long min, String accepted) {
        String text = required(raw, accepted);
        String lower = text.toLowerCase(Locale.ROOT);
        long unit = 1;
        for (String[] suffix : new String[][] {{"kib", "1024"}, {"mib", "1048576"}, {"gib", "1073741824"},
                {"kb", "1024"}, {"mb", "1048576"}, {"gb", "1073741824"}, {"b", "1"}}) {
            if (lower.endsWith(suffix[0])) {
                unit = Long.parseLong(suffix[1]);
                text = text.substring(0, text.length() - suffix[0].length()).trim();
                break;
            }
        }
        long count;
        try {
            count = integer(new RawValue(raw.key(), text, raw.origin()), 0, Long.MAX_VALUE / unit, accepted);
        } catch (ConfigException e) {
            throw invalid(raw, "is not a size; use " + accepted);
        }
        long value = count * unit;
        if (value < min) {
            throw invalid(raw, "is too small; use " + accepted);
        }
        return value;
    }
}
