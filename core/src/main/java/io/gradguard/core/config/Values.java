package io.gradguard.core.config;

import java.util.Locale;
import java.util.regex.Pattern;

/** Typed reading of {@link RawValue}s; every failure is a one-line {@link ConfigException}. */
final class Values {

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?");
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
        return new ConfigException(
                raw.key() + "=" + shown(raw.text()) + " " + problem + " (from " + raw.origin() + ")");
    }

    /** For values that may hold a secret: the message names the key and the source, never the value. */
    static ConfigException invalidHidden(RawValue raw, String problem) {
        return new ConfigException(raw.key() + " (value not shown) " + problem + " (from " + raw.origin() + ")");
    }

    /** Headers the exporter sets itself, or that the JDK's HTTP client drops without a word. */
    private static final java.util.Set<String> RESERVED_HEADERS =
            java.util.Set.of("content-type", "content-length", "host", "connection", "transfer-encoding");

    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");

    /** {@code Name=value;Name=value} (or comma-separated); see {@code NetworkValueTypes.httpHeaders()}. */
    static java.util.Map<String, String> headers(RawValue raw) {
        String use = "; write Name=value pairs separated by ; such as X-Scope-OrgID=tenant-1";
        java.util.Map<String, String> headers = new java.util.LinkedHashMap<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        String text = raw.text() == null ? "" : raw.text();
        int entry = 0;
        for (String part : text.split("[;,]")) {
            if (part.isBlank()) {
                continue;
            }
            entry++;
            int eq = part.indexOf('=');
            String name = eq < 0 ? "" : part.substring(0, eq).trim();
            if (name.isEmpty()) {
                throw invalidHidden(raw, "has entry " + entry + " that is not Name=value" + use);
            }
            if (!HEADER_NAME.matcher(name).matches()) {
                throw invalidHidden(
                        raw,
                        "has entry " + entry + " whose name is not an HTTP token (letters, digits, -" + " and _)"
                                + use);
            }
            String value = part.substring(eq + 1).trim();
            if (value.isEmpty()) {
                throw invalidHidden(raw, "has entry " + entry + " (" + name + ") with an empty value" + use);
            }
            if (value.chars().anyMatch(Character::isISOControl)) {
                throw invalidHidden(
                        raw,
                        "has entry " + entry + " (" + name + ") with a control character in its" + " value; remove it");
            }
            String lower = name.toLowerCase(Locale.ROOT);
            if (RESERVED_HEADERS.contains(lower)) {
                throw invalidHidden(raw, "sets " + name + ", which the exporter sets itself; remove it");
            }
            if (!seen.add(lower)) {
                throw invalidHidden(raw, "names " + name + " twice; keep one");
            }
            headers.put(name, value);
        }
        if (headers.isEmpty()) {
            throw invalidHidden(raw, "holds no header" + use);
        }
        return java.util.Collections.unmodifiableMap(headers);
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

    /** Empty, {@code off} and YAML null mean "not set" for optional paths and addresses. */
    static boolean isOff(RawValue raw) {
        return raw.text() == null || raw.text().isBlank() || raw.text().trim().equalsIgnoreCase("off");
    }

    /** {@code 67108864}, {@code 64MiB}, {@code 512 KiB}. */
    static long bytes(RawValue raw, long min, String accepted) {
        String text = required(raw, accepted);
        String lower = text.toLowerCase(Locale.ROOT);
        long unit = 1;
        for (String[] suffix : new String[][] {
            {"kib", "1024"},
            {"mib", "1048576"},
            {"gib", "1073741824"},
            {"kb", "1024"},
            {"mb", "1048576"},
            {"gb", "1073741824"},
            {"b", "1"}
        }) {
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
