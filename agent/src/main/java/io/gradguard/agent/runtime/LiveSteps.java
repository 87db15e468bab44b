package io.gradguard.agent.runtime;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.gradguard.core.guard.OffThreadSinks;
import io.gradguard.core.step.PolicyDescription;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /api/steps}: the live page's data, the recent steps of every trainer as JSON. With
 * {@code ?after=ID:STEP,ID:STEP} only the steps after those (per trainer id) come back, so a page
 * polling a few times a second receives each step once. The JSON is built on the endpoint's
 * worker thread from rows copied out of {@link LiveHistory}; training never waits for it.
 *
 * <p>The shape (fields marked optional are left out when there is nothing to say):
 * <pre>
 * {"version":1, "run":"...", "tracks":[{
 *   "id":1, "model":"mlp", "parameters":["01Linear_weight", ...],
 *   "policy":{"type","settings","description","on_nonfinite"} (optional: none before the first step),
 *   "rows":{"step":[..], "time_ms":[..], "loss":[..], "global_norm":[..], "global_norm_clipped":[..],
 *           "clip_coefficient":[..], "zscore":[..], "agent_us":[..], "grad_norm":[[per row] per parameter]},
 *   "totals":{"steps","skipped","clipped","explosions","vanishing"} (optional: as of the last row, if any),
 *   "events":[{"step", "kind": skipped|explosion|vanishing|failed, "nonfinite": true (optional)}],
 *   "recovery":{"state","lr_scale","rewinds","backoffs"} (optional),
 *   "incidents":[{"step","trigger","file","first_offender"}] (optional)}]}
 * </pre>
 * Numbers that are not finite (a NaN loss, an overflowed norm) are {@code null}.
 */
final class LiveSteps implements HttpHandler {

    /** The JSON's version: a field may be added within a version, none removed or changed. */
    static final int VERSION = 1;
    /** Most {@code after} pairs read from one query (one per trainer shown is enough). */
    private static final int MAX_CURSORS = LiveHistory.MAX_TRACKS * 2;

    private final LiveHistory history;
    private final String run;

    LiveSteps(LiveHistory history, String run) {
        this.history = history;
        this.run = run;
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!"/api/steps".equals(exchange.getRequestURI().getPath())) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            Map<Integer, Long> after = cursors(exchange.getRequestURI().getRawQuery());
            if (after == null) {
                exchange.sendResponseHeaders(400, -1);
                return;
            }
            OffThreadSinks.deliverAll(); // the steps still on their way to the history
            byte[] body = render(after).getBytes(StandardCharsets.UTF_8);
            LivePage.send(exchange, "application/json; charset=utf-8", body, "no-store");
        }
    }

    /** {@code after=1:500,2:30} as id -> step; an empty map for no query; null for a malformed one. */
    static Map<Integer, Long> cursors(String query) {
        Map<Integer, Long> after = new HashMap<>();
        if (query == null || query.isEmpty()) {
            return after;
        }
        for (String param : query.split("&", 8)) {
            if (!param.startsWith("after=")) {
                continue;
            }
            String value = param.substring("after=".length())
                    .replace("%3A", ":")
                    .replace("%3a", ":")
                    .replace("%2C", ",")
                    .replace("%2c", ",");
            if (value.isEmpty()) {
                continue;
            }
            String[] pairs = value.split(",", MAX_CURSORS + 1);
            if (pairs.length > MAX_CURSORS) {
                return null;
            }
            for (String pair : pairs) {
                int colon = pair.indexOf(':');
                if (colon <= 0 || colon > 9 || pair.length() - colon > 19) {
                    return null;
                }
                try {
                    after.put(Integer.parseInt(pair.substring(0, colon)), Long.parseLong(pair.substring(colon + 1)));
                } catch (NumberFormatException e) {
                    return null;
                }
            }
        }
        return after;
    }

    String render(Map<Integer, Long> after) {
        JsonText json = new JsonText(4096);
        json.open('{')
                .key("version")
                .value(VERSION)
                .key("run")
                .value(run)
                .key("tracks")
                .open('[');
        for (LiveTrack track : history.tracks()) {
            track(json, track, after.getOrDefault(track.id(), 0L));
        }
        return json.close(']').close('}').toString();
    }

    private static void track(JsonText json, LiveTrack track, long afterStep) {
        LiveRows rows = track.after(afterStep, LiveHistory.STEPS);
        json.open('{')
                .key("id")
                .value(track.id())
                .key("model")
                .value(track.model())
                .key("parameters")
                .open('[');
        for (String name : track.parameters()) {
            json.value(name);
        }
        json.close(']');
        PolicyDescription policy = track.policy();
        if (policy != null) {
            json.key("policy")
                    .open('{')
                    .key("type")
                    .value(policy.type())
                    .key("settings")
                    .value(policy.settings())
                    .key("description")
                    .value(policy.description())
                    .key("on_nonfinite")
                    .value(policy.onNonfinite())
                    .close('}');
        }
        json.key("rows")
                .open('{')
                .key("step")
                .values(rows.step())
                .key("time_ms")
                .values(rows.wallMillis())
                .key("loss")
                .values(rows.loss())
                .key("global_norm")
                .values(rows.globalNorm())
                .key("global_norm_clipped")
                .values(rows.clippedNorm())
                .key("clip_coefficient")
                .values(rows.coefficient())
                .key("zscore")
                .values(rows.zScore())
                .key("agent_us")
                .open('[');
        for (long nanos : rows.agentNanos()) {
            json.value(nanos / 1000.0);
        }
        json.close(']').key("grad_norm").open('[');
        for (float[] parameter : rows.gradNorms()) {
            json.open('[');
            for (float v : parameter) {
                json.value(v);
            }
            json.close(']');
        }
        json.close(']').close('}');
        int last = rows.size() - 1;
        if (last >= 0) {
            json.key("totals")
                    .open('{')
                    .key("steps")
                    .value(rows.step()[last])
                    .key("skipped")
                    .value(rows.skippedTotal()[last])
                    .key("clipped")
                    .value(rows.clippedTotal()[last])
                    .key("explosions")
                    .value(rows.explosionsTotal()[last])
                    .key("vanishing")
                    .value(rows.vanishingTotal()[last])
                    .close('}');
        }
        json.key("events").open('[');
        for (int i = 0; i < rows.size(); i++) {
            events(json, rows.flags()[i], rows.step()[i]);
        }
        json.close(']');
        LiveHistory.Recovery recovery = track.recovery();
        if (recovery != null) {
            json.key("recovery")
                    .open('{')
                    .key("state")
                    .value(recovery.state())
                    .key("lr_scale")
                    .value(recovery.lrScale())
                    .key("rewinds")
                    .value(recovery.rewinds())
                    .key("backoffs")
                    .value(recovery.backoffs())
                    .close('}');
        }
        List<LiveHistory.Incident> incidents = track.incidents();
        if (!incidents.isEmpty()) {
            json.key("incidents").open('[');
            for (LiveHistory.Incident incident : incidents) {
                json.open('{')
                        .key("step")
                        .value(incident.step())
                        .key("trigger")
                        .value(incident.trigger())
                        .key("file")
                        .value(incident.file())
                        .key("first_offender")
                        .value(incident.firstOffender())
                        .close('}');
            }
            json.close(']');
        }
        json.close('}');
    }

    /** One row's events: a skipped step (with whether its gradients were not finite), a failure, detector events. */
    private static void events(JsonText json, int flags, long step) {
        if ((flags & LiveHistory.SKIPPED) != 0) {
            json.open('{').key("step").value(step).key("kind").value("skipped");
            if ((flags & LiveHistory.NONFINITE) != 0) {
                json.key("nonfinite").value(true);
            }
            json.close('}');
        }
        String[] kinds = {"failed", "explosion", "vanishing"};
        int[] bits = {LiveHistory.FAILED, LiveHistory.EXPLOSION, LiveHistory.VANISHING};
        for (int k = 0; k < kinds.length; k++) {
            if ((flags & bits[k]) != 0) {
                json.open('{')
                        .key("step")
                        .value(step)
                        .key("kind")
                        .value(kinds[k])
                        .close('}');
            }
        }
    }
}
