package io.gradguard.core.log;

import java.util.List;

/**
 * Hand-written JSON, into a byte array reused from record to record. NaN and infinities become
 * {@code null} (JSON has no such numbers); strings are escaped per RFC 8259 and written as
 * UTF-8, lone surrogates as {@code \\uXXXX} so the line stays valid UTF-8.
 */
final class JsonLineEncoder {

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private byte[] buf = new byte[1024];
    private int len;

    byte[] bytes() {
        return buf;
    }

    /** Encodes the record and its newline; returns the length in {@link #bytes()}. */
    int encode(StepRecord r) {
        len = 0;
        ascii("{\"model\":").string(r.model());
        ascii(",\"step\":").number(r.step());
        ascii(",\"time_ms\":").number(r.timeMillis());
        ascii(",\"loss\":").number(r.loss());
        ascii(",\"global_norm\":").number(r.globalNorm());
        ascii(",\"clipped_global_norm\":").number(r.clippedGlobalNorm());
        ascii(",\"clip_coefficient\":").number(r.clipCoefficient());
        ascii(",\"skipped\":").ascii(r.skipped() ? "true" : "false");
        ascii(",\"skip_reason\":").string(r.skipReason());
        ascii(",\"explosion\":").ascii(r.explosion() ? "true" : "false");
        ascii(",\"vanishing\":").ascii(r.vanishing() ? "true" : "false");
        ascii(",\"z_score\":").number(r.zScore());
        ascii(",\"top_parameters\":[");
        List<StepRecord.ParameterNorm> top = r.topParameters();
        for (int i = 0; i < top.size(); i++) {
            StepRecord.ParameterNorm p = top.get(i);
            ascii(i == 0 ? "{\"name\":" : ",{\"name\":").string(p.name());
            ascii(",\"norm\":").number(p.norm()).ascii("}");
        }
        ascii("]}\n");
        return len;
    }

    private JsonLineEncoder number(long v) {
        return ascii(Long.toString(v));
    }

    private JsonLineEncoder number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return ascii("null");
        }
        // Double.toString is the shortest exact form, and "1.0E-7" is a valid JSON number.
        return ascii(Double.toString(v));
    }

    private JsonLineEncoder ascii(String s) {
        int n = s.length();
        ensure(n);
        for (int i = 0; i < n; i++) {
            buf[len++] = (byte) s.charAt(i);
        }
        return this;
    }

    private JsonLineEncoder string(String s) {
        if (s == null) {
            return ascii("null");
        }
        ensure(s.length() * 6 + 2);
        buf[len++] = '"';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                buf[len++] = '\\';
                buf[len++] = (byte) c;
            } else if (c < 0x20) {
                escapeControl(c);
            } else if (c < 0x80) {
                buf[len++] = (byte) c;
            } else if (c < 0x800) {
                buf[len++] = (byte) (0xC0 | (c >> 6));
                buf[len++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c)
                    && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                buf[len++] = (byte) (0xF0 | (cp >> 18));
                buf[len++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[len++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[len++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                unicodeEscape(c);
            } else {
                buf[len++] = (byte) (0xE0 | (c >> 12));
                buf[len++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[len++] = (byte) (0x80 | (c & 0x3F));
            }
        }
        buf[len++] = '"';
        return this;
    }

    private void escapeControl(char c) {
        switch (c) {
            case '\n' -> {
                buf[len++] = '\\';
                buf[len++] = 'n';
            }
            case '\r' -> {
                buf[len++] = '\\';
                buf[len++] = 'r';
            }
            case '\t' -> {
                buf[len++] = '\\';
                buf[len++] = 't';
            }
            case '\b' -> {
                buf[len++] = '\\';
                buf[len++] = 'b';
            }
            case '\f' -> {
                buf[len++] = '\\';
                buf[len++] = 'f';
            }
            default -> unicodeEscape(c);
        }
    }

    private void unicodeEscape(char c) {
        buf[len++] = '\\';
        buf[len++] = 'u';
        buf[len++] = HEX[(c >> 12) & 0xF];
        buf[len++] = HEX[(c >> 8) & 0xF];
        buf[len++] = HEX[(c >> 4) & 0xF];
        buf[len++] = HEX[c & 0xF];
    }

    private void ensure(int extra) {
        if (len + extra > buf.length) {
            buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + extra));
        }
    }
}
