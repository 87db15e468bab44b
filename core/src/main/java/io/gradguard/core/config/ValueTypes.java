package io.gradguard.core.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** The value types of configuration keys; every failure is a one-line {@link ConfigException}. */
public final class ValueTypes {

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private ValueTypes() {}

    /**
     * A whole number in {@code [min, max]}.
     *
     * @param min smallest accepted value
     * @param max largest accepted value
     * @param unit appended to the accepted text, e.g. {@code seconds}; null for none
     * @return the type
     */
    public static ValueType<Integer> integer(int min, int max, String unit) {
        String range = max == Integer.MAX_VALUE ? "integer >= " + min : "integer " + min + ".." + max;
        String accepted = unit == null ? range : range + " (" + unit + ")";
        return new ValueType<>() {
            @Override
            public Integer parse(RawValue raw) {
                return (int) Values.integer(raw, min, max, accepted);
            }

            @Override
            public String accepted() {
                return accepted;
            }

            @Override
            public void check(String key, Integer value) {
                if (value == null || value < min || value > max) {
                    throw new IllegalArgumentException(key + " must be " + range + ", got " + value);
                }
            }
        };
    }

    /**
     * A finite decimal number within a range.
     *
     * @param range the accepted interval
     * @param example a typical value named in the message, or null
     * @return the type
     */
    public static ValueType<Double> number(Range range, String example) {
        String accepted = "number " + range.text();
        String problem = "must be " + range.text() + (example == null ? "" : ", e.g. " + example);
        return new ValueType<>() {
            @Override
            public Double parse(RawValue raw) {
                double value = Values.number(raw, "a " + accepted);
                if (!range.contains(value)) {
                    throw Values.invalid(raw, problem);
                }
                return value;
            }

            @Override
            public String accepted() {
                return accepted;
            }

            @Override
            public void check(String key, Double value) {
                if (value == null || !range.contains(value)) {
                    throw new IllegalArgumentException(key + " " + problem + ", got " + value);
                }
            }

            @Override
            public String format(Double value) {
                return formatNumber(value);
            }
        };
    }

    /**
     * One of a few words, case-insensitive, returned in lower case.
     *
     * @param choices the accepted words
     * @param what what a word is, for the message: {@code is not WHAT; use one of ...}
     * @return the type
     */
    public static ValueType<String> oneOf(List<String> choices, String what) {
        List<String> copy = List.copyOf(choices);
        return simple(String.join(" | ", copy), raw -> Values.oneOf(raw, copy, what));
    }

    /**
     * An enum constant by its lower-case name.
     *
     * @param type the enum
     * @param what what a constant is, for the message
     * @param <E> the enum type
     * @return the type
     */
    public static <E extends Enum<E>> ValueType<E> enumeration(Class<E> type, String what) {
        List<String> names = java.util.Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT))
                .toList();
        ValueType<String> words = oneOf(names, what);
        return new ValueType<>() {
            @Override
            public E parse(RawValue raw) {
                return Enum.valueOf(type, words.parse(raw).toUpperCase(Locale.ROOT));
            }

            @Override
            public String accepted() {
                return words.accepted();
            }

            @Override
            public String format(E value) {
                return value.name().toLowerCase(Locale.ROOT);
            }
        };
    }

    /**
     * {@code true | false} (also yes/no, on/off).
     *
     * @return the type
     */
    public static ValueType<Boolean> bool() {
        return simple("true | false", Values::bool);
    }

    /**
     * Free text, trimmed, without control characters.
     *
     * @param maxLength the longest accepted text
     * @param accepted what the help says, e.g. {@code 1..128 characters}
     * @return the type
     */
    public static ValueType<String> text(int maxLength, String accepted) {
        return simple(accepted, raw -> {
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
     * A host name or IP address (not resolved here: name lookups happen where the address is used).
     *
     * @return the type
     */
    public static ValueType<String> host() {
        ValueType<String> text = text(255, "host name or IP address");
        return simple(text.accepted(), raw -> {
            if (raw.text().trim().chars().anyMatch(Character::isWhitespace)) {
                throw Values.invalid(raw, "holds whitespace; use a host name or IP address");
            }
            return text.parse(raw);
        });
    }

    /**
     * A TCP port, {@code 0} for none, or {@code auto}.
     *
     * @param auto the value that stands for {@code auto}
     * @param autoMeaning what auto does, for the help
     * @return the type
     */
    public static ValueType<Integer> port(int auto, String autoMeaning) {
        String accepted = "0..65535, or auto (" + autoMeaning + ")";
        return new ValueType<>() {
            @Override
            public Integer parse(RawValue raw) {
                if (raw.text().trim().equalsIgnoreCase("auto")) {
                    return auto;
                }
                return (int) Values.integer(raw, 0, 65_535, accepted);
            }

            @Override
            public String accepted() {
                return accepted;
            }

            @Override
            public String format(Integer value) {
                return value == auto ? "auto" : String.valueOf(value);
            }
        };
    }

    /**
     * A Java regular expression.
     *
     * @return the type
     */
    public static ValueType<Pattern> regex() {
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
     * A file path; whether it can be read is for the part that uses it to find out, so that a bad
     * path switches off that part only.
     *
     * @param accepted what the help says, e.g. {@code path of a readable file}
     * @return the type
     */
    public static ValueType<Path> path(String accepted) {
        return simple(accepted, raw -> {
            try {
                return Path.of(raw.text().trim());
            } catch (InvalidPathException e) {
                throw Values.invalid(
                        raw, "is not a valid path (" + Values.shown(e.getReason()) + "); use a plain file path");
            }
        });
    }

    /**
     * A path with a default, or {@code off} for none (an empty value also means off).
     *
     * @param accepted what the path must name, for the help text
     * @return the type; {@link java.util.Optional#empty()} for off
     */
    public static ValueType<java.util.Optional<Path>> pathOrOff(String accepted) {
        ValueType<Path> path = path(accepted);
        return new ValueType<>() {
            @Override
            public java.util.Optional<Path> parse(RawValue raw) {
                return Values.isOff(raw) ? java.util.Optional.empty() : java.util.Optional.of(path.parse(raw));
            }

            @Override
            public String accepted() {
                return accepted + ", or off";
            }

            @Override
            public String format(java.util.Optional<Path> value) {
                return value == null || value.isEmpty() ? "off" : value.get().toString();
            }
        };
    }

    /**
     * The name of an environment variable (never its value: secrets do not pass through config).
     *
     * @return the type
     */
    public static ValueType<String> environmentName() {
        return simple("name of an environment variable that is set", raw -> {
            String text = raw.text().trim();
            if (!ENV_NAME.matcher(text).matches()) {
                throw Values.invalid(
                        raw,
                        "is not an environment variable name; use letters, digits and _ such as KEYSTORE_PASSWORD");
            }
            return text;
        });
    }

    /**
     * A size in bytes: {@code 67108864}, {@code 64MiB}, {@code 512 KiB}.
     *
     * @param min the smallest accepted size
     * @return the type
     */
    public static ValueType<Long> bytes(long min) {
        String accepted = "integer >= " + min + ", optional suffix KiB | MiB | GiB";
        return new ValueType<>() {
            @Override
            public Long parse(RawValue raw) {
                return Values.bytes(raw, min, accepted);
            }

            @Override
            public String accepted() {
                return accepted;
            }

            @Override
            public String format(Long value) {
                return value % (1L << 20) == 0 ? value / (1L << 20) + "MiB" : String.valueOf(value);
            }
        };
    }

    /**
     * {@code HOST:PORT} without a scheme.
     *
     * @return the type
     */
    public static ValueType<String> hostAndPort() {
        return simple("HOST:PORT", raw -> {
            String text = raw.text().trim();
            if (text.contains("://")) {
                throw Values.invalid(raw, "must be HOST:PORT without a scheme, e.g. pushgateway:9091");
            }
            int colon = text.lastIndexOf(':');
            String host = colon < 0 ? "" : text.substring(0, colon);
            String port = colon < 0 ? "" : text.substring(colon + 1);
            boolean hostOk = !host.isEmpty()
                    && host.chars().noneMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c) || c == '/');
            if (!hostOk || !port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65_535) {
                throw Values.invalid(raw, "is not HOST:PORT; use e.g. pushgateway:9091 or [::1]:9091");
            }
            return text;
        });
    }

    /**
     * An {@code http://} or {@code https://} URL with a host; an empty path becomes {@code
     * defaultPath}. A user name or password in the URL is refused: it would show in every line
     * that names the URL, so credentials go in headers read from the environment instead.
     *
     * @param defaultPath the path of a URL written without one, e.g. {@code /v1/metrics}
     * @param example a full URL for the messages
     * @return the type; the value is the URL as it is used
     */
    public static ValueType<String> httpUrl(String defaultPath, String example) {
        return simple("http:// or https:// URL", raw -> {
            String text = raw.text().trim();
            java.net.URI uri;
            try {
                uri = new java.net.URI(text);
            } catch (java.net.URISyntaxException e) {
                throw Values.invalid(raw, "is not a URL (" + Values.shown(e.getReason()) + "); use e.g. " + example);
            }
            if (uri.getRawUserInfo() != null) {
                throw Values.invalidHidden(
                        raw,
                        "holds a user name or password; send credentials as a header from the"
                                + " environment instead (otlp.headers_env)");
            }
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw Values.invalid(raw, "is not an http:// or https:// URL; use e.g. " + example);
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                throw Values.invalid(raw, "has no host; use e.g. " + example);
            }
            if (uri.getRawFragment() != null) {
                throw Values.invalid(raw, "has a #fragment, which HTTP never sends; drop it");
            }
            String path = uri.getRawPath();
            if (path != null && !path.isEmpty() && !path.equals("/")) {
                return text;
            }
            int q = text.indexOf('?');
            String base = q < 0 ? text : text.substring(0, q);
            String query = q < 0 ? "" : text.substring(q);
            return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + defaultPath + query;
        });
    }

    /**
     * HTTP request headers written as {@code Name=value} pairs separated by {@code ;} (or {@code
     * ,}, so that a value in OpenTelemetry's {@code OTEL_EXPORTER_OTLP_HEADERS} form reads too).
     * Values are taken literally: tokens keep their {@code +}, {@code /} and {@code =}. No message
     * ever shows a value, since headers carry credentials.
     *
     * @return the type; the value is an unmodifiable map in the order written
     */
    public static ValueType<java.util.Map<String, String>> httpHeaders() {
        return new ValueType<>() {
            @Override
            public java.util.Map<String, String> parse(RawValue raw) {
                return Values.headers(raw);
            }

            @Override
            public String accepted() {
                return "Name=value pairs separated by ;";
            }

            @Override
            public String format(java.util.Map<String, String> value) {
                // names only: the values may be secrets
                return value == null ? "" : String.join(";", value.keySet());
            }
        };
    }

    /**
     * A vector norm order: 2 or infinity.
     *
     * @return the type; infinity is {@link Double#POSITIVE_INFINITY}
     */
    public static ValueType<Double> normType() {
        return new ValueType<>() {
            @Override
            public Double parse(RawValue raw) {
                return switch (raw.text().trim().toLowerCase(Locale.ROOT)) {
                    case "inf", ".inf", "infinity", "+inf", "+.inf", "max" -> Double.POSITIVE_INFINITY;
                    case "2", "2.0", "2.", "l2" -> 2.0;
                    default -> throw Values.invalid(raw, "is not a supported norm; use 2 or inf");
                };
            }

            @Override
            public String accepted() {
                return "2 | inf";
            }

            @Override
            public void check(String key, Double value) {
                if (value == null || (value != 2.0 && value != Double.POSITIVE_INFINITY)) {
                    throw new IllegalArgumentException(key + " must be 2 or inf, got " + value);
                }
            }

            @Override
            public String format(Double value) {
                return formatNumber(value);
            }
        };
    }

    /**
     * A number as labels and help show it: {@code inf} for infinity, {@code none} for NaN (an unset
     * optional), so that no label carries Java's "Infinity" or "NaN".
     *
     * @param value the number
     * @return its text
     */
    public static String formatNumber(double value) {
        if (Double.isNaN(value)) {
            return "none";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "inf" : "-inf";
        }
        return Double.toString(value);
    }

    private static <T> ValueType<T> simple(String accepted, Function<RawValue, T> parser) {
        return new ValueType<>() {
            @Override
            public T parse(RawValue raw) {
                return parser.apply(raw);
            }

            @Override
            public String accepted() {
                return accepted;
            }
        };
    }

    /** An interval of accepted numbers. */
    public enum Range {
        /** {@code > 0}. */
        POSITIVE("> 0"),
        /** {@code >= 0}. */
        NON_NEGATIVE(">= 0"),
        /** {@code (0, 1)}. */
        OPEN_UNIT("in (0, 1)"),
        /** {@code (0, 100]}. */
        PERCENT("in (0, 100]"),
        /** {@code > 1}. */
        ABOVE_ONE("> 1");

        private final String text;

        Range(String text) {
            this.text = text;
        }

        String text() {
            return text;
        }

        boolean contains(double v) {
            return switch (this) {
                case POSITIVE -> v > 0;
                case NON_NEGATIVE -> v >= 0;
                case OPEN_UNIT -> v > 0 && v < 1;
                case PERCENT -> v > 0 && v <= 100;
                case ABOVE_ONE -> v > 1;
            };
        }
    }
}
