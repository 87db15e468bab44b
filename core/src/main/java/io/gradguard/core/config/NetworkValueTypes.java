package io.gradguard.core.config;

import java.util.Locale;

/** Value types of keys that name network places: hosts, ports, URLs and the headers sent to them. */
final class NetworkValueTypes {

    private NetworkValueTypes() {}

    /**
     * A host name or IP address (not resolved here: name lookups happen where the address is used).
     *
     * @return the type
     */
    static ValueType<String> host() {
        ValueType<String> text = TextValueTypes.text(255, "host name or IP address");
        return ValueTypes.simple(text.accepted(), raw -> {
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
    static ValueType<Integer> port(int auto, String autoMeaning) {
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
     * {@code HOST:PORT} without a scheme.
     *
     * @return the type
     */
    static ValueType<String> hostAndPort() {
        return ValueTypes.simple("HOST:PORT", raw -> {
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
    static ValueType<String> httpUrl(String defaultPath, String example) {
        return ValueTypes.simple("http:// or https:// URL", raw -> {
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
    static ValueType<java.util.Map<String, String>> httpHeaders() {
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
}
