package io.gradguard.core.config;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Value types of keys that point outside the configuration: file and directory paths. */
final class LocationValueTypes {

    private LocationValueTypes() {}

    /**
     * A file path; whether it can be read is for the part that uses it to find out, so that a bad
     * path switches off that part only.
     *
     * @param accepted what the help says, e.g. {@code path of a readable file}
     * @return the type
     */
    static ValueType<Path> path(String accepted) {
        return ValueTypes.simple(accepted, raw -> {
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
    static ValueType<java.util.Optional<Path>> pathOrOff(String accepted) {
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
}
