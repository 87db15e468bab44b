package io.gradguard.agent.runtime;

/**
 * Writes JSON text in one pass, commas placed by the writer: the agent bundles no JSON library
 * for the few documents it serves. Numbers that are not finite are written as {@code null}.
 */
final class JsonText {

    private final StringBuilder out;
    /** Bit d: the container at depth d already holds a member (the next one needs a comma). */
    private long filled;

    private int depth;
    private boolean afterKey;

    JsonText(int capacity) {
        out = new StringBuilder(capacity);
    }

    JsonText open(char bracket) {
        separate();
        out.append(bracket);
        depth++;
        filled &= ~(1L << depth);
        return this;
    }

    JsonText close(char bracket) {
        out.append(bracket);
        depth--;
        return this;
    }

    JsonText key(String name) {
        separate();
        quoted(name);
        out.append(':');
        afterKey = true;
        return this;
    }

    JsonText value(String s) {
        separate();
        if (s == null) {
            out.append("null");
        } else {
            quoted(s);
        }
        return this;
    }

    JsonText value(long v) {
        separate();
        out.append(v);
        return this;
    }

    JsonText value(boolean v) {
        separate();
        out.append(v);
        return this;
    }

    JsonText value(double v) {
        separate();
        if (Double.isFinite(v)) {
            out.append(v);
        } else {
            out.append("null");
        }
        return this;
    }

    /** A float as the float it is (its shortest decimal), not widened to a double's digits. */
    JsonText value(float v) {
        separate();
        if (Float.isFinite(v)) {
            out.append(v);
        } else {
            out.append("null");
        }
        return this;
    }

    JsonText values(long[] vs) {
        open('[');
        for (long v : vs) {
            value(v);
        }
        return close(']');
    }

    JsonText values(double[] vs) {
        open('[');
        for (double v : vs) {
            value(v);
        }
        return close(']');
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private void separate() {
        if (afterKey) {
            afterKey = false; // a key's value: the comma came before the key
            return;
        }
        long bit = 1L << depth;
        if ((filled & bit) != 0) {
            out.append(',');
        }
        filled |= bit;
    }

    private void quoted(String s) {
        io.gradguard.core.json.Json.quote(out, s);
    }
}
