package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.HasAuthentication;
import org.openqa.selenium.UsernameAndPassword;
import org.openqa.selenium.json.Json;

/**
 * The live page in a real browser (Debian's headless Chromium) against the reference trainer with
 * the agent: it draws, it shows what {@code /metrics} shows, the browser reports no error (no
 * blocked script or style, no failed load, no exception), and it honours the endpoint's basic auth.
 */
class LivePageIT {

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3))
            .build();
    private static final int STEPS = 120;
    private static final String CHARTS = "['norm','loss','coef','agent','heat']";

    @Test
    void drawsTheRunAndShowsWhatMetricsShowsWithoutABrowserError() throws Exception {
        int port = ChildJvm.freePort();
        String base = "http://127.0.0.1:" + port + "/";
        // One poisoned batch: one skipped step; global-norm clipping: a clip coefficient that moves.
        List<String> args = List.of(
                "--scenario",
                "nan-inject",
                "--max-steps",
                String.valueOf(STEPS),
                "--epochs",
                "1",
                "--limit-train",
                String.valueOf(STEPS * 64),
                "--limit-test",
                "256",
                "--linger",
                "90");
        try (ChildJvm job = ReferenceTrainerIT.trainer(
                "port=" + port + ",summary=0,policy.type=global-norm,policy.max_norm=1.0", args)) {
            job.awaitOutput("lingering", 120);
            assertTrue(job.output().contains("live page at " + base), job.output());
            Map<String, Double> m = ChildJvm.parse(ChildJvm.get(base + "metrics"));
            Map<String, Object> api = new Json().toType(ChildJvm.get(base + "api/steps"), Map.class);

            try (HeadlessChromium browser = HeadlessChromium.start(1400, 1300)) {
                browser.driver.get(base);
                browser.await("chart drawn with " + STEPS + " steps", 60, () -> drawnEverywhere(browser, STEPS));
                assertEquals("gradguard live", browser.driver.getTitle());
                @SuppressWarnings("unchecked")
                Map<String, String> tiles = (Map<String, String>) browser.script(
                        "return Object.fromEntries([...document.querySelectorAll('section.track [data-field]')]"
                                + ".map(e => [e.dataset.field, e.dataset.value]));");
                System.out.println("[LivePageIT] page tiles " + tiles);

                assertEquals(STEPS, ChildJvm.value(m, "gradguard_steps_total"));
                assertEquals(STEPS, Long.parseLong(tiles.get("step")));
                assertSame("global norm", ChildJvm.value(m, "gradguard_grad_global_norm"), tiles.get("global_norm"));
                assertSame(
                        "after policy",
                        ChildJvm.value(m, "gradguard_grad_global_norm_clipped"),
                        tiles.get("global_norm_clipped"));
                assertSame(
                        "clip coefficient",
                        ChildJvm.value(m, "gradguard_clip_coefficient"),
                        tiles.get("clip_coefficient"));
                assertSame("loss", ChildJvm.value(m, "gradguard_loss"), tiles.get("loss"));
                assertEquals(
                        1.0,
                        ChildJvm.value(m, "gradguard_skipped_steps_total", "reason=\"nonfinite\""),
                        "the poisoned step");
                assertEquals(1, Long.parseLong(tiles.get("skipped")));
                assertEquals(
                        ChildJvm.value(m, "gradguard_clip_total", "policy=\"global-norm\""),
                        Double.parseDouble(tiles.get("clipped")));
                assertEquals(
                        ChildJvm.value(m, "gradguard_spikes_total", "kind=\"explosion\""),
                        Double.parseDouble(tiles.get("explosions")));
                assertTrue(Double.parseDouble(tiles.get("agent_us")) > 0, "agent time " + tiles.get("agent_us"));

                String policy =
                        (String) browser.script("return document.querySelector('section.track .policy').dataset.type;");
                assertEquals(
                        1.0,
                        ChildJvm.value(m, "gradguard_policy_info", "policy=\"" + policy + "\""),
                        "page shows policy " + policy);
                String events = (String)
                        browser.script("return document.querySelector('section.track .event-list').textContent;");
                long skippedAt = skippedStep(api);
                assertTrue(events.contains("step " + skippedAt + "  skipped (gradients not finite)"), events);

                // The heatmap's cells are painted: the middle of its plot area is neither blank nor the page.
                @SuppressWarnings("unchecked")
                List<Number> pixel = (List<Number>)
                        browser.script(
                                "const u = document.querySelector('[data-chart=heat] canvas');"
                                        + "const ctx = u.getContext('2d');"
                                        + "return Array.from(ctx.getImageData(Math.floor(u.width * 0.6), Math.floor(u.height * 0.4), 1, 1).data);");
                assertEquals(255, pixel.get(3).intValue(), "heatmap pixel " + pixel);
                assertFalse(
                        pixel.get(0).intValue() > 240
                                && pixel.get(1).intValue() > 240
                                && pixel.get(2).intValue() > 240,
                        "heatmap pixel is blank: " + pixel);

                perParameterNormsMatch(api, m);
                Path png = Path.of("target", "live-page-it.png");
                browser.screenshot(png);
                System.out.println("[LivePageIT] screenshot " + png.toAbsolutePath());
                assertEquals(List.of(), browser.errors(), "browser console errors");
            }
        }
    }

    @Test
    void underBasicAuthThePageAndItsDataNeedTheCredentials(@TempDir Path dir) throws Exception {
        Path auth = dir.resolve("auth");
        Files.writeString(auth, "viewer:page-s3cret\n");
        Files.setPosixFilePermissions(auth, PosixFilePermissions.fromString("rw-------"));
        int port = ChildJvm.freePort();
        String base = "http://127.0.0.1:" + port + "/";
        List<String> args = List.of(
                "--model",
                "mlp",
                "--max-steps",
                "40",
                "--epochs",
                "1",
                "--limit-train",
                "2560",
                "--limit-test",
                "64",
                "--linger",
                "90");
        try (ChildJvm job = ReferenceTrainerIT.trainer("port=" + port + ",summary=0,auth_file=" + auth, args)) {
            job.awaitOutput("lingering", 120);
            for (String path :
                    List.of("", "live.js", "live.css", "uplot/uPlot.iife.min.js", "uplot/LICENSE", "api/steps")) {
                HttpResponse<String> none = send(HttpRequest.newBuilder(URI.create(base + path)));
                assertEquals(401, none.statusCode(), path);
                assertTrue(
                        none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"), path);
                assertEquals(401, send(basic(base + path, "viewer:wrong")).statusCode(), path);
                HttpResponse<String> right = send(basic(base + path, "viewer:page-s3cret"));
                assertEquals(200, right.statusCode(), path);
                assertTrue(
                        right.headers()
                                .firstValue("Content-Security-Policy")
                                .orElse("")
                                .contains("script-src 'self'"),
                        path);
            }
            Map<String, Object> api = new Json()
                    .toType(
                            send(basic(base + "api/steps", "viewer:page-s3cret"))
                                    .body(),
                            Map.class);
            assertEquals(40L, ((Number) lastOf(firstTrack(api), "step")).longValue());

            try (HeadlessChromium browser = HeadlessChromium.start(1200, 900)) {
                browser.driver.get(base);
                assertNotEquals("gradguard live", browser.driver.getTitle(), "page shown without credentials");
                assertTrue(
                        browser.errors().stream().anyMatch(e -> e.contains("401")),
                        "401 seen by the browser: " + browser.errors());
            }
            try (HeadlessChromium browser = HeadlessChromium.start(1200, 900)) {
                // What a person does at the browser's password prompt.
                ((HasAuthentication) browser.driver).register(UsernameAndPassword.of("viewer", "page-s3cret"));
                browser.driver.get(base);
                browser.await("chart drawn with 40 steps", 60, () -> drawnEverywhere(browser, 40));
                assertEquals("gradguard live", browser.driver.getTitle());
                assertEquals("40", browser.script("return document.querySelector('[data-field=step]').dataset.value;"));
                assertEquals(List.of(), browser.errors(), "browser console errors");
                System.out.println(
                        "[LivePageIT] basic auth: page, scripts, styles and api/steps 401 without and with wrong"
                                + " credentials, 200 with them; the browser drew 40 steps once given them");
            }
        }
    }

    /** Whether every chart of the first trainer last drew {@code steps} steps. */
    private static boolean drawnEverywhere(HeadlessChromium browser, int steps) {
        Object ok = browser.script(
                "const s = document.querySelector('section.track');"
                        + "if (!s || !s.dataset.drawn) return false; const d = JSON.parse(s.dataset.drawn);"
                        + "return " + CHARTS + ".every(c => d[c] === arguments[0]);",
                steps);
        return Boolean.TRUE.equals(ok);
    }

    /** The page's figure is the agent's double as JSON and JavaScript wrote it: equal to what /metrics says. */
    private static void assertSame(String what, double metrics, String page) {
        double shown = Double.parseDouble(page);
        assertEquals(metrics, shown, Math.abs(metrics) * 1e-12, what + ": /metrics " + metrics + ", page " + page);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> firstTrack(Map<String, Object> api) {
        List<Map<String, Object>> tracks = (List<Map<String, Object>>) api.get("tracks");
        assertEquals(1, tracks.size(), "one trainer");
        return tracks.get(0);
    }

    @SuppressWarnings("unchecked")
    private static Object lastOf(Map<String, Object> track, String column) {
        List<Object> values = (List<Object>) ((Map<String, Object>) track.get("rows")).get(column);
        return values.get(values.size() - 1);
    }

    @SuppressWarnings("unchecked")
    private static long skippedStep(Map<String, Object> api) {
        for (Map<String, Object> e : (List<Map<String, Object>>) firstTrack(api).get("events")) {
            if ("skipped".equals(e.get("kind")) && Boolean.TRUE.equals(e.get("nonfinite"))) {
                return ((Number) e.get("step")).longValue();
            }
        }
        throw new AssertionError("no skipped step in api/steps: " + api.get("tracks"));
    }

    /** The heatmap's last column is each parameter's last norm, as gradguard_grad_norm says (float precision). */
    @SuppressWarnings("unchecked")
    private static void perParameterNormsMatch(Map<String, Object> api, Map<String, Double> m) {
        Map<String, Object> track = firstTrack(api);
        List<String> names = (List<String>) track.get("parameters");
        List<List<Number>> norms = (List<List<Number>>) ((Map<String, Object>) track.get("rows")).get("grad_norm");
        assertEquals(6, names.size(), "mlp has 6 parameters: " + names);
        for (int j = 0; j < names.size(); j++) {
            double scraped = ChildJvm.value(m, "gradguard_grad_norm", "parameter=\"" + names.get(j) + "\"");
            double shown = norms.get(j).get(norms.get(j).size() - 1).doubleValue();
            assertEquals(scraped, shown, Math.abs(scraped) * 1e-6, names.get(j));
        }
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder basic(String url, String userColonPassword) {
        return HttpRequest.newBuilder(URI.create(url))
                .header(
                        "Authorization",
                        "Basic "
                                + Base64.getEncoder()
                                        .encodeToString(userColonPassword.getBytes(StandardCharsets.UTF_8)));
    }
}
