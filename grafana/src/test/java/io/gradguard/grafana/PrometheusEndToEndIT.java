package io.gradguard.grafana;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.DoublePredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard and alerts against the real thing: Prometheus (1 s scrape and evaluation) scrapes three reference
 * trainer JVMs running the agent: one healthy, one whose gradients explode to NaN, and one exploding under
 * {@code policy.type=auto}, whose recovery ladder backs off and rewinds. Every panel query must return data, the
 * recovery, incident and shadow-policy panels must show the recovering run's events, and the explosion alerts must
 * go pending or firing for the exploding run and never for the healthy one.
 *
 * <p>Needs {@code gradguard.agent.jar} and {@code gradguard.examples.jar} (set by failsafe in this module's pom).
 */
final class PrometheusEndToEndIT {

    /** One trainer JVM: its {@code run} label, scenario, model and agent settings beyond the common ones. */
    record Trainer(String run, String scenario, String model, String settings) {}

    private static final Trainer HEALTHY = new Trainer("healthy", "healthy", "mlp", "");
    /**
     * explode-lr on the plain deep MLP: its gradients go NaN at step 3 and stay non-finite, the
     * classic sustained explosion. (On the default shallow mlp the same learning rate blows the
     * loss up by four orders of magnitude in a few steps and then leaves a dead network, which the
     * detector counts as explosion spikes but which is over within one scrape.)
     */
    private static final Trainer EXPLODING = new Trainer("explode-lr", "explode-lr", "deep-mlp", "");
    /**
     * explode-lr on the shallow mlp under auto: it keeps diverging at the backed-off rates, so backoffs, rewinds
     * and rewind incidents come every few hundred steps, well after the first scrapes. {@code on_exhausted=stop}
     * lets it run on past recovery.max_rewinds instead of failing the job mid-observation.
     */
    private static final Trainer RECOVERING =
            new Trainer("explode-lr-auto", "explode-lr", "mlp", ",policy.type=auto,recovery.on_exhausted=stop");

    private static final List<String> EXPLOSION_ALERTS =
            List.of("GradGuardGradientExplosion", "GradGuardNonFiniteGradients");
    /** Long enough for ~40 scrapes and for the 1m-window panels to have data. */
    private static final Duration MIN_OBSERVATION = Duration.ofSeconds(45);

    private static final Duration MAX_OBSERVATION = Duration.ofSeconds(90);
    /**
     * How long the observation goes on after the first rewind was scraped: the panel shows it as an increase over 4 s
     * windows sampled every second, so samples from after it must exist.
     */
    private static final Duration AFTER_FIRST_REWIND = Duration.ofSeconds(6);
    /** Enough epochs to outlive the observation window; the jobs are destroyed once the checks are done. */
    private static final String DEFAULT_TRAINER_ARGS = "--epochs 5000 --limit-train 3200 --limit-test 64";
    /**
     * Panel queries that must show the recovering run's events at some sample of the observation, not only have
     * series (a counter at 0 has one): what such a sample is.
     */
    private static final Map<String, DoublePredicate> MOVES_FOR_RECOVERING = Map.of(
            "panel 'Recovery ladder actions' target A", v -> v > 0,
            "panel 'Learning-rate scale' target A", v -> v < 1,
            "panel 'Rewound steps' target A", v -> v > 0,
            "panel 'Incidents' target A", v -> v > 0,
            "panel 'Shadow policies' target A", v -> v > 0,
            "panel 'Shadow policies' target B", v -> v < 1);

    @TempDir
    Path workDir;

    @Test
    void dashboardHasDataShowsTheRecoveryAndExplosionAlertsFireForTheExplodingRunOnly() throws Exception {
        Path agentJar = requiredFile("gradguard.agent.jar");
        Path examplesJar = requiredFile("gradguard.examples.jar");
        Map<Trainer, Integer> ports = new LinkedHashMap<>();
        for (Trainer trainer : List.of(HEALTHY, EXPLODING, RECOVERING)) {
            ports.put(trainer, PrometheusServer.freePort());
        }

        List<Process> jobs = new ArrayList<>();
        PrometheusServer prometheus = null;
        try {
            prometheus = PrometheusServer.start(workDir, config(ports));
            double observedFrom = System.currentTimeMillis() / 1000.0;
            for (Trainer trainer : List.of(HEALTHY, EXPLODING)) {
                jobs.add(startTrainer(agentJar, examplesJar, trainer, ports.get(trainer)));
            }
            Map<String, Map<String, AlertSighting>> sightings = observe(
                    prometheus,
                    ports,
                    jobs,
                    () -> startTrainer(agentJar, examplesJar, RECOVERING, ports.get(RECOVERING)));

            // Per-run instances: the alert's instance label tells the runs apart whatever `run` the agent used.
            String healthyInstance = "127.0.0.1:" + ports.get(HEALTHY);
            String explodingInstance = "127.0.0.1:" + ports.get(EXPLODING);
            assertPanelsHaveData(prometheus);
            assertPanelsShowTheRecovery(prometheus, "127.0.0.1:" + ports.get(RECOVERING), observedFrom);

            double firstBadSample = firstBadSample(prometheus, explodingInstance);
            for (String alert : EXPLOSION_ALERTS) {
                AlertSighting seen = sightings.get(explodingInstance).get(alert);
                assertTrue(
                        seen != null,
                        alert + " never pending/firing for " + EXPLODING.run() + "; seen: " + sightings + "\n"
                                + prometheus.logTail());
                System.out.printf(
                        Locale.ROOT,
                        "%s for %s: pending %.1f s after the first non-finite/spike sample," + " %s%n",
                        alert,
                        EXPLODING.run(),
                        seen.activeAt() - firstBadSample,
                        seen.firingSeenAt() > 0
                                ? String.format(
                                        Locale.ROOT,
                                        "firing seen %.1f s after it",
                                        seen.firingSeenAt() - firstBadSample)
                                : "not firing yet (for: not elapsed)");
                assertTrue(
                        seen.activeAt() - firstBadSample < 60,
                        alert + " pending only after " + (seen.activeAt() - firstBadSample) + " s");
                assertTrue(
                        !sightings.get(healthyInstance).containsKey(alert),
                        alert + " went " + sightings.get(healthyInstance).get(alert) + " for the healthy run");
            }
        } finally {
            for (Process job : jobs) {
                destroy(job);
            }
            if (prometheus != null) {
                prometheus.close();
            }
        }
    }

    /** When an alert was first seen pending (Prometheus' activeAt) and first seen firing (our poll), unix seconds. */
    record AlertSighting(double activeAt, double firingSeenAt) {}

    /**
     * Polls the alerts once a second until the explosion alerts were seen, a rewind was scraped some seconds ago and
     * the minimum observation has passed. {@code startRecovering} runs once the healthy and the exploding run have taken a step: three JVMs
     * starting at once on a small machine hold the healthy run's first step back for seconds, and its global-norm
     * gauge reads NaN until that step, which the explosion alert's non-finite branch takes for an explosion.
     */
    private Map<String, Map<String, AlertSighting>> observe(
            PrometheusServer prometheus,
            Map<Trainer, Integer> ports,
            List<Process> jobs,
            Callable<Process> startRecovering)
            throws Exception {
        Map<String, Map<String, AlertSighting>> sightings = new LinkedHashMap<>();
        ports.values().forEach(port -> sightings.put("127.0.0.1:" + port, new LinkedHashMap<>()));
        long start = System.nanoTime();
        boolean recoveringStarted = false;
        long firstRewindSeen = -1;
        while (true) {
            long elapsed = System.nanoTime() - start;
            if (!recoveringStarted
                    && stepped(prometheus, ports.get(HEALTHY))
                    && stepped(prometheus, ports.get(EXPLODING))) {
                jobs.add(startRecovering.call());
                recoveringStarted = true;
            }
            for (Process job : jobs) {
                assertTrue(
                        job.isAlive(),
                        "a trainer exited early with " + (job.isAlive() ? "" : job.exitValue()) + "; see its log in "
                                + workDir);
            }
            for (JsonNode alert : prometheus.alerts().path("data").path("alerts")) {
                Map<String, AlertSighting> perInstance =
                        sightings.get(alert.path("labels").path("instance").asText());
                if (perInstance == null) {
                    continue;
                }
                String name = alert.path("labels").path("alertname").asText();
                double activeAt =
                        java.time.OffsetDateTime.parse(alert.path("activeAt").asText())
                                        .toInstant()
                                        .toEpochMilli()
                                / 1000.0;
                AlertSighting before = perInstance.get(name);
                double firing = before != null && before.firingSeenAt() > 0
                        ? before.firingSeenAt()
                        : "firing".equals(alert.path("state").asText()) ? System.currentTimeMillis() / 1000.0 : 0;
                perInstance.put(name, new AlertSighting(before != null ? before.activeAt() : activeAt, firing));
            }
            boolean explosionSeen =
                    sightings.get("127.0.0.1:" + ports.get(EXPLODING)).keySet().containsAll(EXPLOSION_ALERTS);
            boolean rewindSeen = !prometheus
                    .query("gradguard_rewound_steps_total{instance=\"127.0.0.1:%d\"} > 0"
                            .formatted(ports.get(RECOVERING)))
                    .path("data")
                    .path("result")
                    .isEmpty();
            if (rewindSeen && firstRewindSeen < 0) {
                firstRewindSeen = elapsed;
            }
            boolean rewindShown = firstRewindSeen >= 0 && elapsed - firstRewindSeen > AFTER_FIRST_REWIND.toNanos();
            if (elapsed > MAX_OBSERVATION.toNanos()
                    || (explosionSeen && rewindShown && elapsed > MIN_OBSERVATION.toNanos())) {
                assertTrue(recoveringStarted, "the healthy or the exploding run took no step in " + MAX_OBSERVATION);
                return sightings;
            }
            Thread.sleep(1000);
        }
    }

    /** Every panel target with all variables on "All", as the dashboard opens; $__rate_interval = 4 x 1 s scrape. */
    private static void assertPanelsHaveData(PrometheusServer prometheus) throws IOException, InterruptedException {
        List<String> empty = new ArrayList<>();
        List<GrafanaDashboard.Query> queries = GrafanaDashboard.load().panelQueries();
        for (GrafanaDashboard.Query query : queries) {
            String expr = GrafanaDashboard.substitute(query.expr(), "4s");
            JsonNode response = prometheus.query(expr);
            assertEquals("success", response.path("status").asText(), query.origin() + ": " + response);
            int series = response.path("data").path("result").size();
            System.out.printf(Locale.ROOT, "  %-70s %d series%n", query.origin(), series);
            if (series == 0) {
                empty.add(query.origin() + ": " + expr);
            }
        }
        assertEquals(List.of(), empty, "panel queries without data");
    }

    /** Whether Prometheus has scraped a counted step from the trainer on this port. */
    private static boolean stepped(PrometheusServer prometheus, int port) throws IOException, InterruptedException {
        String expr = "gradguard_steps_total{instance=\"127.0.0.1:%d\"} > 0".formatted(port);
        return !prometheus.query(expr).path("data").path("result").isEmpty();
    }

    /**
     * The {@link #MOVES_FOR_RECOVERING} panel queries, $instance set to the recovering run's, over the observation
     * at the scrape interval: each must have a sample that shows an event, and each must still be on the dashboard.
     */
    private static void assertPanelsShowTheRecovery(PrometheusServer prometheus, String instance, double from)
            throws IOException, InterruptedException {
        double to = System.currentTimeMillis() / 1000.0;
        Map<String, String> variables = Map.of("instance", instance.replace(".", "\\\\."));
        List<String> problems = new ArrayList<>();
        Set<String> checked = new HashSet<>();
        for (GrafanaDashboard.Query query : GrafanaDashboard.load().panelQueries()) {
            DoublePredicate moved = MOVES_FOR_RECOVERING.get(query.origin());
            if (moved == null) {
                continue;
            }
            checked.add(query.origin());
            String expr = GrafanaDashboard.substitute(query.expr(), "4s", variables);
            JsonNode response = prometheus.queryRange(expr, from, to, 1);
            assertEquals("success", response.path("status").asText(), query.origin() + ": " + response);
            int samples = 0;
            int moving = 0;
            for (JsonNode series : response.path("data").path("result")) {
                for (JsonNode sample : series.path("values")) {
                    samples++;
                    if (moved.test(sampleValue(sample.get(1).asText()))) {
                        moving++;
                    }
                }
            }
            System.out.printf(
                    Locale.ROOT, "  %-70s %d of %d samples show the recovery%n", query.origin(), moving, samples);
            if (moving == 0) {
                problems.add(query.origin() + ": none of " + samples + " samples shows an event: " + expr);
            }
        }
        assertEquals(MOVES_FOR_RECOVERING.keySet(), checked, "panel queries checked for the recovering run");
        assertEquals(List.of(), problems, "panels that never showed the recovering run's events");
    }

    /** A sample value as the Prometheus API writes it ({@code +Inf}, {@code -Inf} and {@code NaN} included). */
    private static double sampleValue(String text) {
        return switch (text) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            default -> Double.parseDouble(text);
        };
    }

    /** Unix time of the exploding run's first sample with a non-finite step or an explosion spike. */
    private static double firstBadSample(PrometheusServer prometheus, String instance)
            throws IOException, InterruptedException {
        String expr = ("(sum(gradguard_grad_nonfinite_total{instance=\"%1$s\"}) or vector(0))"
                        + " + (sum(gradguard_spikes_total{instance=\"%1$s\", kind=\"explosion\"}) or vector(0)) > 0")
                .formatted(instance);
        double now = System.currentTimeMillis() / 1000.0;
        JsonNode result =
                prometheus.queryRange(expr, now - 300, now, 1).path("data").path("result");
        assertTrue(
                result.size() == 1,
                "no non-finite step or explosion spike was ever scraped from " + instance + ": " + result);
        return result.get(0).path("values").get(0).get(0).asDouble();
    }

    private static String config(Map<Trainer, Integer> ports) {
        StringBuilder targets = new StringBuilder();
        ports.values()
                .forEach(port -> targets.append("\"127.0.0.1:").append(port).append("\", "));
        return """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                  evaluation_interval: 1s
                rule_files:
                  - %s
                  - %s
                scrape_configs:
                  - job_name: gradguard
                    static_configs:
                      - targets: [%s]
                """.formatted(
                        MetricContract.RULES.toAbsolutePath(),
                        MetricContract.ALERTS.toAbsolutePath(),
                        targets.substring(0, targets.length() - 2));
    }

    private Process startTrainer(Path agentJar, Path examplesJar, Trainer trainer, int port) throws IOException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=1",
                "-Dai.djl.pytorch.num_interop_threads=1",
                "-javaagent:" + agentJar + "=port=" + port + ",summary=0,run=" + trainer.run() + ",incidents.dir="
                        + workDir.resolve("incidents") + trainer.settings(),
                "-jar",
                examplesJar.toString(),
                "--scenario",
                trainer.scenario(),
                "--model",
                trainer.model()));
        command.addAll(List.of(System.getProperty("gradguard.e2e.trainerArgs", DEFAULT_TRAINER_ARGS)
                .trim()
                .split("\\s+")));
        Path log = workDir.resolve(trainer.run() + ".log");
        System.out.println("starting " + String.join(" ", command) + " (log: " + log + ")");
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
    }

    private static Path requiredFile(String property) {
        String value = System.getProperty(property);
        assertTrue(value != null && !value.isBlank(), "system property " + property + " is not set");
        Path path = Path.of(value);
        assertTrue(
                Files.isRegularFile(path),
                property + "=" + path + " does not exist: build it first" + " (mvn -pl grafana -am verify)");
        return path;
    }

    private static void destroy(Process process) throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
