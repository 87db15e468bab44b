package io.gradguard.core.config;

import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/** The value types of configuration keys; every failure is a one-line {@link ConfigException}. */
public final class ValueTypes {

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

    static <T> ValueType<T> simple(String accepted, Function<RawValue, T> parser) {
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
