package io.gradguard.core.recorder;

import io.gradguard.core.json.Json;
import java.time.Instant;
import java.util.Map;

/**
 * An incident as its JSON file holds it (format {@value #FORMAT}); {@link IncidentFile} reads it
 * back. Columns of the recorded steps are arrays, oldest step first; a number that is not finite
 * is written as the string {@code "NaN"}, {@code "Infinity"} or {@code "-Infinity"} (JSON has no
 * such numbers, and a norm's NaN is the news).
 */
final class IncidentJson {

    /** The format's name and version, the file's first member. */
    static final String FORMAT = "gradguard-incident/1";

    private final StringBuilder out = new StringBuilder(1 << 16);
    private boolean first = true;

    private IncidentJson() {}

    static String render(Incident incident, Incident.Summary summary) {
        IncidentJson j = new IncidentJson();
        j.out.append('{');
        j.key("format").string(FORMAT);
        j.line().key("model").string(incident.model);
        j.line().key("run").string(incident.run);
        j.line().key("trigger").string(incident.trigger);
        j.line().key("step").number(incident.step);
        j.line().key("time").string(Instant.ofEpochMilli(incident.wallMillis).toString());
        j.line().key("first_offender");
        j.offender(incident.firstOffender);
        j.line().key("followers").open('[');
        for (Incident.Offender o : summary.followers()) {
            j.offender(o);
        }
        j.close(']');
        j.line().key("summary").open('{');
        j.key("status").string(summary.open() ? "open" : "closed");
        j.key("last_step").number(summary.lastStep());
        j.key("steps").number(summary.steps());
        j.key("events").open('{');
        for (int t = 0; t < Incident.TRIGGERS.size(); t++) {
            j.key(Incident.TRIGGERS.get(t)).number(summary.events()[t]);
        }
        j.close('}');
        j.key("skipped").number(summary.skipped());
        j.key("max_global_norm").number(summary.maxGlobalNorm());
        j.key("max_global_norm_step").number(summary.maxGlobalNormStep());
        j.key("lr_scale").number(summary.lrScale());
        j.key("closed_at_step");
        if (summary.open()) {
            j.nullValue();
        } else {
            j.number(summary.closedAt());
        }
        j.close('}');
        StepRing.Recorded r = incident.ring;
        j.line().key("steps").open('{');
        j.key("step").longs(r.step());
        j.key("time_ms").longs(r.wallMillis());
        j.key("global_norm").doubles(r.globalNorm());
        j.key("clipped_global_norm").doubles(r.clippedNorm());
        j.key("clip_coefficient").doubles(r.coefficient());
        j.key("loss").doubles(r.loss());
        j.key("z_score").doubles(r.zScore());
        j.key("explosion").booleans(r.explosion());
        j.key("action").strings(r.action());
        j.key("skip_reason").strings(r.skipReason());
        j.key("recovery").strings(r.recovery());
        j.key("lr_scale").doubles(r.lrScale());
        j.close('}');
        j.line().key("parameters").open('[');
        for (int i = 0; i < r.parameters().size(); i++) {
            j.line().open('{');
            j.key("name").string(r.parameters().get(i));
            j.key("grad_norm").floats(r.gradNorm()[i]);
            j.key("grad_max_abs").floats(r.gradMaxAbs()[i]);
            j.key("out_of_band").booleans(r.outOfBand()[i]);
            j.close('}');
        }
        j.close(']');
        j.line().key("config").map(incident.config);
        j.line().key("versions").map(incident.versions);
        j.close('}');
        j.out.append('\n');
        return j.out.toString();
    }

    private void offender(Incident.Offender o) {
        if (o == null) {
            nullValue();
            return;
        }
        open('{');
        key("parameter").string(o.parameter());
        key("step").number(o.step());
        key("norm").number(o.norm());
        key("typical_norm").number(o.typical());
        key("band_upper").number(o.upper());
        close('}');
    }

    private IncidentJson map(Map<String, String> values) {
        open('{');
        values.forEach((k, v) -> key(k).string(v));
        return close('}');
    }

    private IncidentJson open(char bracket) {
        comma();
        out.append(bracket);
        first = true;
        return this;
    }

    private IncidentJson close(char bracket) {
        out.append(bracket);
        first = false;
        return this;
    }

    private IncidentJson key(String name) {
        comma();
        quoted(name);
        out.append(':');
        first = true; // the value follows without a comma
        return this;
    }

    /** A line break before the next member, so an editor shows the file member by member. */
    private IncidentJson line() {
        comma();
        out.append('\n');
        first = true;
        return this;
    }

    private void comma() {
        if (!first) {
            out.append(',');
        }
        first = false;
    }

    private IncidentJson nullValue() {
        comma();
        out.append("null");
        return this;
    }

    private IncidentJson string(String s) {
        comma();
        if (s == null) {
            out.append("null");
        } else {
            quoted(s);
        }
        return this;
    }

    private IncidentJson number(long v) {
        comma();
        out.append(v);
        return this;
    }

    private IncidentJson number(double v) {
        comma();
        if (Double.isFinite(v)) {
            out.append(v);
        } else {
            out.append('"').append(v).append('"');
        }
        return this;
    }

    private IncidentJson longs(long[] values) {
        open('[');
        for (long v : values) {
            number(v);
        }
        return close(']');
    }

    private IncidentJson doubles(double[] values) {
        open('[');
        for (double v : values) {
            number(v);
        }
        return close(']');
    }

    private IncidentJson floats(float[] values) {
        open('[');
        for (float v : values) {
            comma();
            if (Float.isFinite(v)) {
                out.append(v); // the float's shortest form: what the ring holds, no more digits
            } else {
                out.append('"').append(v).append('"');
            }
        }
        return close(']');
    }

    private IncidentJson booleans(boolean[] values) {
        open('[');
        for (boolean v : values) {
            comma();
            out.append(v);
        }
        return close(']');
    }

    private IncidentJson strings(String[] values) {
        open('[');
        for (String v : values) {
            string(v);
        }
        return close(']');
    }

    private void quoted(String s) {
        Json.quote(out, s);
    }
}
