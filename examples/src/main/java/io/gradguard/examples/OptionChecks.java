package io.gradguard.examples;

import java.util.Locale;

/** Checks of the reference trainer's option values; a failure names the option and what it got. */
final class OptionChecks {

    private OptionChecks() {}

    static double positiveOrOff(String option, Double value) {
        if (value == null) {
            return Double.NaN;
        }
        if (!(value > 0 && !value.isInfinite())) {
            throw new IllegalArgumentException(option + " must be a positive number, got " + value);
        }
        return value;
    }

    static int positive(String option, int value) {
        if (value <= 0) {
            throw new IllegalArgumentException(option + " must be positive, got " + value);
        }
        return value;
    }

    static int nonNegative(String option, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(option + " must be >= 0, got " + value);
        }
        return value;
    }

    static <E extends Enum<E>> E choice(Class<E> type, String option, String value) {
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(value)) {
                return e;
            }
        }
        StringBuilder names = new StringBuilder();
        for (E e : type.getEnumConstants()) {
            names.append(names.length() == 0 ? "" : "|").append(e.name().toLowerCase(Locale.ROOT));
        }
        throw new IllegalArgumentException(option + ": unknown value '" + value + "', expected one of " + names);
    }
}
