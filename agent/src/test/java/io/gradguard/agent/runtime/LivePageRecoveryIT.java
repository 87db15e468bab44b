package io.gradguard.agent.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.gradguard.agent.it.HeadlessChromium;
import io.gradguard.core.guard.GradGuardSchema;
import io.gradguard.core.step.StepAction;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The parts of the live page that today's training jobs do not produce yet, in a real browser on
 * the agent's real endpoint: two trainers shown apart, the recovery ladder's state and the flight
 * recorder's incidents when the history holds them (hidden when it does not), and steps arriving
 * while the page is open.
 */
class LivePageRecoveryIT {

    @Test
    void showsTrainersApartWithRecoveryAndIncidentsWhenPresentAndFollowsNewSteps() throws Exception {
        LiveHistory history = new LiveHistory(LiveHistory.STEPS, Pattern.compile(".*"), 500);
        LiveTrack mlp = history.newTrack("mlp");
        LiveTrack cnn = history.newTrack("cnn");
        for (long s = 1; s <= 50; s++) {
            mlp.accept(LiveHistoryTest.report("mlp", s, 6, s == 10 ? StepAction.SKIPPED : StepAction.APPLIED, s == 30));
            cnn.accept(LiveHistoryTest.report("cnn", s, 3, StepAction.APPLIED, false));
        }
        mlp.recovery(new LiveHistory.Recovery("backoff", 0.5, 1, 2));
        mlp.incident(new LiveHistory.Incident(30, "explosion", "/tmp/gradguard-incidents/incident-30.json", "p3"));

        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ScrapeEndpoint endpoint = ScrapeEndpoint.start(
                GradGuardSchema.load("port=" + port + ",summary=0,run=page-it", Map.of(), Map.of()),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                history);
        assertNotNull(endpoint, "endpoint on " + port);
        try (HeadlessChromium browser = HeadlessChromium.start(1400, 1600)) {
            browser.driver.get(endpoint.url());
            browser.await(
                    "both trainers drawn",
                    30,
                    () -> Boolean.TRUE.equals(
                            browser.script(
                                    "const s = [...document.querySelectorAll('section.track')];"
                                            + "return s.length === 2 && s.every(t => t.dataset.drawn && JSON.parse(t.dataset.drawn).heat === 50);")));
            @SuppressWarnings("unchecked")
            List<String> models = (List<String>)
                    browser.script("return [...document.querySelectorAll('section.track')].map(s => s.dataset.model);");
            assertEquals(List.of("mlp", "cnn"), models);

            String mlpSection = "section[data-track-id='" + mlp.id() + "']";
            String cnnSection = "section[data-track-id='" + cnn.id() + "']";
            assertEquals(
                    Boolean.FALSE,
                    browser.script("return document.querySelector(\"" + mlpSection + " .recovery\").hidden;"));
            @SuppressWarnings("unchecked")
            Map<String, String> recovery = (Map<String, String>)
                    browser.script("return Object.fromEntries([...document" + ".querySelectorAll(\"" + mlpSection
                            + " [data-recovery]\")].map(d => [d.dataset.recovery, d.textContent]));");
            assertEquals(Map.of("state", "backoff", "lr_scale", "0.5", "rewinds", "1", "backoffs", "2"), recovery);
            String incident = (String) browser.script(
                    "return document.querySelector(\"" + mlpSection + " .incidents tbody tr\").textContent;");
            assertEquals("30explosionp3/tmp/gradguard-incidents/incident-30.json", incident);
            assertEquals(
                    Boolean.TRUE,
                    browser.script("return document.querySelector(\"" + cnnSection + " .recovery\").hidden;"));
            assertEquals(
                    Boolean.TRUE,
                    browser.script("return document.querySelector(\"" + cnnSection + " .incidents\").hidden;"));
            assertEquals(
                    "1",
                    browser.script("return document.querySelector(\"" + mlpSection
                            + " [data-field=skipped]\").dataset.value;"));
            Path png = Path.of("target", "live-page-recovery-it.png");
            browser.screenshot(png);

            // Steps that arrive while the page is open are drawn, and only the new ones travel.
            for (long s = 51; s <= 80; s++) {
                mlp.accept(LiveHistoryTest.report("mlp", s, 6, StepAction.APPLIED, false));
            }
            mlp.recovery(new LiveHistory.Recovery("steady", 1.0, 1, 2));
            browser.await(
                    "step 80 on the page",
                    10,
                    () -> "80"
                            .equals(browser.script("return document.querySelector(\"" + mlpSection
                                    + " [data-field=step]\").dataset.value;")));
            browser.await(
                    "the ladder's new state",
                    10,
                    () -> "steady"
                            .equals(browser.script("return document.querySelector(\"" + mlpSection
                                    + " [data-recovery=state]\").textContent;")));
            assertTrue(Integer.parseInt((String) browser.script("return document.body.dataset.polls;")) > 1, "polled");
            assertFalse(browser.errors().stream().findAny().isPresent(), "browser console errors " + browser.errors());
            System.out.println(
                    "[LivePageRecoveryIT] 2 trainers apart, recovery and incident shown for mlp only, steps 51-80 followed;"
                            + " screenshot " + png.toAbsolutePath());
        } finally {
            endpoint.close();
        }
    }
}
