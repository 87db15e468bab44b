package io.gradguard.agent.report;

import io.gradguard.core.recorder.IncidentFile;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code java -jar gradguard-agent.jar report FILE [--steps N]}: an incident file as a table on
 * stdout (every parameter's gradient norm over the last recorded steps, the first offender and its
 * followers marked, cells out of their band starred) and a plot written beside the file. A
 * command-line tool: it prints to stdout and exits with a status.
 */
public final class IncidentReport {

    /** Steps shown in the table unless {@code --steps} says otherwise. */
    static final int DEFAULT_STEPS = 8;
    /** Followers named in the header; the table ranks them all. */
    static final int FOLLOWERS_NAMED = 8;

    private IncidentReport() {}

    /**
     * Runs the command.
     *
     * @param args {@code FILE [--steps N]}
     * @param out where the table goes
     * @param err where problems go
     * @return the exit status: 0, 1 (the file could not be read), 2 (bad arguments)
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        int steps = DEFAULT_STEPS;
        Path file = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("--steps") && i + 1 < args.size() && args.get(i + 1).matches("[1-9]\\d{0,3}")) {
                steps = Integer.parseInt(args.get(++i));
            } else if (file == null && !a.startsWith("--")) {
                file = Path.of(a);
            } else {
                err.println("gradguard report: unexpected argument '" + a + "'; use: report FILE [--steps N]");
                return 2;
            }
        }
        if (file == null) {
            err.println("gradguard report: name an incident file; use: report FILE [--steps N]");
            return 2;
        }
        IncidentFile incident;
        try {
            incident = IncidentFile.read(file);
        } catch (IOException e) {
            err.println("gradguard report: " + (Files.exists(file) ? e.getMessage() : "no file " + file));
            return 1;
        }
        out.print(table(incident, steps));
        Path png = plotPath(file);
        try {
            IncidentPlot.write(incident, png);
            out.println("plot: " + png);
        } catch (IOException | RuntimeException | LinkageError e) {
            err.println("gradguard report: no plot written to " + png + ": " + e);
            return 1;
        }
        return 0;
    }

    /** {@code incident-...json} becomes {@code incident-...png} in the same directory. */
    static Path plotPath(Path file) {
        String name = file.getFileName().toString();
        String base = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return file.resolveSibling(base + ".png");
    }

    /** The header lines and the table. */
    static String table(IncidentFile f, int shown) {
        StringBuilder s = new StringBuilder();
        IncidentFile.Summary sum = f.summary();
        s.append(String.format(
                Locale.ROOT,
                "incident: %s at step %d of model %s, run %s (%s)%n",
                f.trigger(),
                f.step(),
                f.model(),
                f.run(),
                f.time()));
        IncidentFile.Offender first = f.firstOffender();
        if (first == null) {
            s.append("first offender: none (no parameter left its band in the recorded steps)\n");
        } else {
            s.append("first offender: ")
                    .append(first.parameter())
                    .append(", ")
                    .append(describe(first))
                    .append('\n');
        }
        if (!f.followers().isEmpty()) {
            List<String> then = new ArrayList<>();
            for (IncidentFile.Offender o : f.followers()
                    .subList(0, Math.min(FOLLOWERS_NAMED, f.followers().size()))) {
                then.add(o.parameter() + " (step " + o.step() + factor(o) + ")");
            }
            int more = f.followers().size() - then.size();
            s.append("followed by: ")
                    .append(String.join(", ", then))
                    .append(more > 0 ? " and " + more + " more (ranked in the table)" : "")
                    .append('\n');
        }
        StringBuilder events = new StringBuilder();
        sum.events().forEach((k, v) -> {
            if (v > 0) {
                events.append(events.length() == 0 ? "" : ", ")
                        .append(k)
                        .append(' ')
                        .append(v);
            }
        });
        s.append(String.format(
                Locale.ROOT,
                "summary: %s; %d steps (%d to %d); events: %s; skipped %d; largest global" + " norm %s at step %d%s%n",
                sum.status().equals("closed") ? "closed after calm steps" : "still open when last written",
                sum.steps(),
                f.step(),
                sum.lastStep(),
                events.length() == 0 ? "none" : events,
                sum.skipped(),
                num(sum.maxGlobalNorm()),
                sum.maxGlobalNormStep(),
                sum.lrScale() == 1.0 ? "" : "; learning rate x" + num(sum.lrScale())));
        s.append("versions: ").append(join(f.versions())).append('\n');
        s.append("configuration set: ")
                .append(f.config().isEmpty() ? "(all defaults)" : join(f.config()))
                .append('\n');

        IncidentFile.Steps st = f.steps();
        int from = Math.max(0, st.size() - shown);
        Map<String, String> rank = new HashMap<>();
        if (first != null) {
            rank.put(first.parameter(), "1>");
        }
        for (int i = 0; i < f.followers().size(); i++) {
            rank.putIfAbsent(f.followers().get(i).parameter(), String.valueOf(i + 2));
        }
        int nameWidth = "clipped global norm".length();
        for (IncidentFile.Parameter p : f.parameters()) {
            nameWidth = Math.max(nameWidth, p.name().length());
        }
        s.append(String.format(
                Locale.ROOT,
                "%ngradient L2 norm per parameter, last %d of %d recorded steps"
                        + " (* out of its band; 1> first offender, 2, 3, ... the order in which the others left theirs)%n",
                st.size() - from,
                st.size()));
        String rowFormat = "%3s %-" + nameWidth + "s";
        s.append(String.format(Locale.ROOT, rowFormat, "", "step"));
        for (int j = from; j < st.size(); j++) {
            s.append(String.format(Locale.ROOT, " %11d", st.step()[j]));
        }
        s.append('\n');
        for (IncidentFile.Parameter p : f.parameters()) {
            s.append(String.format(Locale.ROOT, rowFormat, rank.getOrDefault(p.name(), ""), p.name()));
            for (int j = from; j < st.size(); j++) {
                s.append(String.format(Locale.ROOT, " %10s%s", num(p.gradNorm()[j]), p.outOfBand()[j] ? "*" : " "));
            }
            if (first != null && p.name().equals(first.parameter())) {
                s.append("  <- first offender");
            }
            s.append('\n');
        }
        row(s, rowFormat, "global norm", st.globalNorm(), from);
        row(s, rowFormat, "clipped global norm", st.clippedGlobalNorm(), from);
        row(s, rowFormat, "clip coefficient", st.clipCoefficient(), from);
        row(s, rowFormat, "loss", st.loss(), from);
        row(s, rowFormat, "z-score", st.zScore(), from);
        String[] what = new String[st.size()];
        for (int j = 0; j < what.length; j++) {
            what[j] = st.action()[j]
                    + (st.skipReason()[j] == null ? "" : ":" + st.skipReason()[j])
                    + (st.explosion()[j] ? "!" : "");
        }
        texts(s, rowFormat, "action (! explosion)", what, from);
        boolean ladder = false;
        for (String r : st.recovery()) {
            ladder |= r != null;
        }
        if (ladder) {
            texts(s, rowFormat, "recovery", st.recovery(), from);
            row(s, rowFormat, "lr scale", st.lrScale(), from);
        }
        return s.toString();
    }

    private static String describe(IncidentFile.Offender o) {
        return "left its band at step " + o.step() + ": gradient norm " + num(o.norm())
                + (Double.isNaN(o.typicalNorm())
                        ? " with no history before it"
                        : factor(o) + " its typical " + num(o.typicalNorm()) + " (band up to " + num(o.bandUpper())
                                + ")");
    }

    /** {@code , 256x} or empty when it has no meaning (no history, or not finite). */
    private static String factor(IncidentFile.Offender o) {
        double f = o.norm() / o.typicalNorm();
        return Double.isFinite(f) ? ", " + num(f) + "x" : "";
    }

    private static void row(StringBuilder s, String format, String label, double[] values, int from) {
        s.append(String.format(Locale.ROOT, format, "", label));
        for (int j = from; j < values.length; j++) {
            s.append(String.format(Locale.ROOT, " %10s ", num(values[j])));
        }
        s.append('\n');
    }

    private static void texts(StringBuilder s, String format, String label, String[] values, int from) {
        s.append(String.format(Locale.ROOT, format, "", label));
        for (int j = from; j < values.length; j++) {
            String v = values[j] == null ? "-" : values[j];
            s.append(String.format(Locale.ROOT, " %11s", v.length() > 11 ? v.substring(0, 11) : v));
        }
        s.append('\n');
    }

    private static String join(Map<String, String> m) {
        List<String> parts = new ArrayList<>();
        m.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(", ", parts);
    }

    /** Four significant digits, NaN and infinities spelt short. */
    static String num(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "Inf" : "-Inf";
        }
        double a = Math.abs(v);
        if (v == 0 || (a >= 1e-3 && a < 1e5)) {
            return String.format(Locale.ROOT, "%.4g", v)
                    .replaceAll("(\\.\\d*?)0+$", "$1")
                    .replaceAll("\\.$", "");
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }
}
