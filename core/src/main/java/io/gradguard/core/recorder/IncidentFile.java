package io.gradguard.core.recorder;

import io.gradguard.core.json.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An incident file read back: what {@code java -jar gradguard-agent.jar report FILE} shows, and
 * what tests compare with the job's own figures. Per-step columns are oldest step first; numbers
 * that were not finite come back as NaN or infinities.
 *
 * @param model the model label
 * @param run the run label
 * @param trigger what opened the incident: {@code nonfinite}, {@code explosion}, {@code skip_streak},
 *     {@code rewind} or {@code failure}
 * @param step the step that opened it
 * @param time when, ISO-8601
 * @param firstOffender the parameter that left its band first, or null when none did
 * @param followers the parameters that left their bands after it, in order
 * @param summary the incident so far, or as it closed
 * @param steps the recorded steps up to the one that opened it
 * @param parameters each parameter's columns over the recorded steps, in the model's order
 * @param config the configuration keys the job set (secrets hidden)
 * @param versions gradguard's, Java's, DJL's and its engine's versions
 */
public record IncidentFile(
        String model,
        String run,
        String trigger,
        long step,
        String time,
        Offender firstOffender,
        List<Offender> followers,
        Summary summary,
        Steps steps,
        List<Parameter> parameters,
        Map<String, String> config,
        Map<String, String> versions) {

    /**
     * A parameter that left its band.
     *
     * @param parameter its name
     * @param step the step at which it left
     * @param norm its gradient norm then
     * @param typicalNorm its band's geometric mean then (NaN: no history yet)
     * @param bandUpper the band's upper bound then (NaN: no history yet)
     */
    public record Offender(String parameter, long step, double norm, double typicalNorm, double bandUpper) {}

    /**
     * The incident so far.
     *
     * @param status {@code open} or {@code closed}
     * @param lastStep the last step seen
     * @param steps steps since it opened
     * @param events per trigger, the steps that had it
     * @param skipped skipped updates
     * @param maxGlobalNorm the largest finite pre-clip global norm
     * @param maxGlobalNormStep where it was
     * @param lrScale the recovery ladder's factor on the learning rate at the last step
     * @param closedAtStep the step it closed at, or 0 while open
     */
    public record Summary(
            String status,
            long lastStep,
            long steps,
            Map<String, Long> events,
            long skipped,
            double maxGlobalNorm,
            long maxGlobalNormStep,
            double lrScale,
            long closedAtStep) {}

    /**
     * The recorded steps' own figures.
     *
     * @param step step numbers
     * @param timeMillis when each was taken
     * @param globalNorm pre-clip global norm
     * @param clippedGlobalNorm global norm after the policy
     * @param clipCoefficient the clip coefficient
     * @param loss the loss (NaN if none)
     * @param zScore the detector's z-score
     * @param explosion whether the detector called it an explosion
     * @param action {@code applied}, {@code skipped}, {@code failed} or {@code djl_threw}
     * @param skipReason why it was skipped, or null
     * @param recovery the recovery ladder's action, or null without a ladder
     * @param lrScale the ladder's factor on the learning rate
     */
    public record Steps(
            long[] step,
            long[] timeMillis,
            double[] globalNorm,
            double[] clippedGlobalNorm,
            double[] clipCoefficient,
            double[] loss,
            double[] zScore,
            boolean[] explosion,
            String[] action,
            String[] skipReason,
            String[] recovery,
            double[] lrScale) {

        /** @return how many steps were recorded */
        public int size() {
            return step.length;
        }
    }

    /**
     * One parameter over the recorded steps.
     *
     * @param name its name
     * @param gradNorm its gradient norm
     * @param gradMaxAbs its max |g| (NaN on steps that did not measure it)
     * @param outOfBand whether the norm was out of its band
     */
    public record Parameter(String name, double[] gradNorm, double[] gradMaxAbs, boolean[] outOfBand) {}

    /**
     * Reads an incident file.
     *
     * @param file the file
     * @return its content
     * @throws IOException when it cannot be read, or is not an incident file (the message says which)
     */
    public static IncidentFile read(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        try {
            Object root = Json.parse(text);
            Map<String, Object> m = object(root, "the file");
            if (!IncidentJson.FORMAT.equals(m.get("format"))) {
                throw new IllegalArgumentException("format is " + m.get("format") + ", not " + IncidentJson.FORMAT);
            }
            Map<String, Object> s = object(m.get("steps"), "steps");
            Steps steps = new Steps(
                    longs(s, "step"),
                    longs(s, "time_ms"),
                    doubles(s, "global_norm"),
                    doubles(s, "clipped_global_norm"),
                    doubles(s, "clip_coefficient"),
                    doubles(s, "loss"),
                    doubles(s, "z_score"),
                    booleans(s, "explosion"),
                    strings(s, "action"),
                    strings(s, "skip_reason"),
                    strings(s, "recovery"),
                    doubles(s, "lr_scale"));
            List<Parameter> parameters = new ArrayList<>();
            for (Object p : list(m.get("parameters"), "parameters")) {
                Map<String, Object> pm = object(p, "a parameter");
                parameters.add(new Parameter(
                        text(pm, "name"),
                        doubles(pm, "grad_norm"),
                        doubles(pm, "grad_max_abs"),
                        booleans(pm, "out_of_band")));
            }
            List<Offender> followers = new ArrayList<>();
            for (Object f : list(m.get("followers"), "followers")) {
                followers.add(offender(f));
            }
            Map<String, Object> sm = object(m.get("summary"), "summary");
            Map<String, Long> events = new LinkedHashMap<>();
            object(sm.get("events"), "events").forEach((k, v) -> events.put(k, (long) number(v, k)));
            Object closed = sm.get("closed_at_step");
            Summary summary = new Summary(
                    text(sm, "status"),
                    (long) number(sm, "last_step"),
                    (long) number(sm, "steps"),
                    events,
                    (long) number(sm, "skipped"),
                    number(sm, "max_global_norm"),
                    (long) number(sm, "max_global_norm_step"),
                    number(sm, "lr_scale"),
                    closed == null ? 0 : (long) number(closed, "closed_at_step"));
            return new IncidentFile(
                    text(m, "model"),
                    text(m, "run"),
                    text(m, "trigger"),
                    (long) number(m, "step"),
                    text(m, "time"),
                    m.get("first_offender") == null ? null : offender(m.get("first_offender")),
                    List.copyOf(followers),
                    summary,
                    steps,
                    List.copyOf(parameters),
                    texts(m.get("config")),
                    texts(m.get("versions")));
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            throw new IOException(file + " is not a gradguard incident file: " + e.getMessage(), e);
        }
    }

    private static Offender offender(Object o) {
        Map<String, Object> m = object(o, "an offender");
        return new Offender(
                text(m, "parameter"),
                (long) number(m, "step"),
                number(m, "norm"),
                number(m, "typical_norm"),
                number(m, "band_upper"));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object o, String what) {
        if (!(o instanceof Map)) {
            throw new IllegalArgumentException(what + " is not an object");
        }
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o, String what) {
        if (!(o instanceof List)) {
            throw new IllegalArgumentException(what + " is not an array");
        }
        return (List<Object>) o;
    }

    private static String text(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException(key + " is not a string");
        }
        return s;
    }

    private static Map<String, String> texts(Object o) {
        Map<String, String> out = new LinkedHashMap<>();
        if (o != null) {
            object(o, "a map").forEach((k, v) -> out.put(k, v == null ? null : String.valueOf(v)));
        }
        return java.util.Collections.unmodifiableMap(out);
    }

    private static double number(Map<String, Object> m, String key) {
        return number(m.get(key), key);
    }

    /** A number, or the string a non-finite one was written as. */
    private static double number(Object v, String what) {
        if (v instanceof Double d) {
            return d;
        }
        if (v instanceof String s && (s.equals("NaN") || s.equals("Infinity") || s.equals("-Infinity"))) {
            return Double.parseDouble(s);
        }
        throw new IllegalArgumentException(what + " is not a number: " + v);
    }

    private static double[] doubles(Map<String, Object> m, String key) {
        List<Object> l = list(m.get(key), key);
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = number(l.get(i), key);
        }
        return out;
    }

    private static long[] longs(Map<String, Object> m, String key) {
        double[] d = doubles(m, key);
        long[] out = new long[d.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (long) d[i];
        }
        return out;
    }

    private static boolean[] booleans(Map<String, Object> m, String key) {
        List<Object> l = list(m.get(key), key);
        boolean[] out = new boolean[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Boolean) l.get(i);
        }
        return out;
    }

    private static String[] strings(Map<String, Object> m, String key) {
        List<Object> l = list(m.get(key), key);
        String[] out = new String[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = l.get(i) == null ? null : (String) l.get(i);
        }
        return out;
    }
}
