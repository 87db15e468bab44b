package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.opentelemetry.proto.metrics.v1.AggregationTemporality;
import io.opentelemetry.proto.metrics.v1.HistogramDataPoint;
import io.opentelemetry.proto.metrics.v1.Metric;
import io.opentelemetry.proto.metrics.v1.NumberDataPoint;
import io.opentelemetry.proto.metrics.v1.SummaryDataPoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code otlp.endpoint}: real training jobs in child JVMs with the agent attached export to
 * {@link OtlpReceiver}, which decodes the real OTLP protobuf. What arrives is compared with the
 * agent's own {@code /metrics} at the same moment, the job's own gradient norms and the step log.
 */
class OtlpExportIT {

    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern OWN_NORM = Pattern.compile("\"([^\"]+)\":([-0-9.eE]+)");

    @Test
    void exportsTheSameSeriesAsTheScrapeWithTheJobsOwnGradientNorms() throws Exception {
        String run = "otlp-it-" + System.nanoTime();
        int port = ChildJvm.freePort();
        Path norms = Files.createTempFile("grad-norms", ".jsonl");
        try (OtlpReceiver receiver = OtlpReceiver.start("Bearer it-token")) {
            String agentArgs =
                    "port=" + port + ",summary=0,update_ratio_every=1,run=" + run + ",otlp.endpoint=" + receiver.url()
                            + ",otlp.interval=1,otlp.headers=X-Scope-OrgID=tenant-1,otlp.headers_env=GG_OTLP_AUTH";
            List<String> trainerArgs = List.of(
                    "--model",
                    "mlp",
                    "--loop",
                    "manual",
                    "--max-steps",
                    "60",
                    "--limit-train",
                    "6400",
                    "--limit-test",
                    "256",
                    "--grad-norms",
                    norms.toString(),
                    "--linger",
                    "10");
            try (ChildJvm job = ReferenceTrainerIT.trainer(
                    agentArgs, trainerArgs, Map.of("GG_OTLP_AUTH", "Authorization=Bearer it-token"))) {
                job.awaitOutput("lingering", 120);
                // Training is over: every value stands still while the job lingers.
                Map<String, Double> scrape = ChildJvm.parse(ChildJvm.get("http://127.0.0.1:" + port + "/metrics"));
                Map<String, String> mlp = Map.of("model", "mlp", "run", run);
                OtlpReceiver.Received after = receiver.await(
                        r -> has(r, "gradguard.steps")
                                && r.value("gradguard.steps", mlp) == 60.0
                                && r.headers().get("x-scope-orgid") != null,
                        15);
                // The job still lingers: that export came from the schedule, not from the exit.
                assertTrue(job.process.isAlive(), "the job exited before a periodic export:\n" + job.output());

                assertEquals(60.0, ChildJvm.value(scrape, "gradguard_steps_total", "run=\"" + run + "\""));
                int compared = assertSameSeriesAsTheScrape(after, scrape);
                System.out.printf("OTLP export: %d data points equal to the scrape of the same moment%n", compared);

                List<String> lines = Files.readAllLines(norms);
                String last = lines.get(lines.size() - 1);
                assertTrue(last.startsWith("{\"step\":60,"), last);
                Matcher m = OWN_NORM.matcher(last.substring(last.indexOf("\"norms\"")));
                int parameters = 0;
                while (m.find()) {
                    double own = Double.parseDouble(m.group(2));
                    Map<String, String> labels = Map.of("model", "mlp", "run", run, "parameter", m.group(1));
                    double exported = after.value("gradguard.grad.norm", labels);
                    assertEquals(own, exported, Math.abs(own) * 1e-5, m.group(1));
                    parameters++;
                }
                assertEquals(6, parameters, "mlp has 6 parameters");

                assertEquals("tenant-1", after.headers().get("x-scope-orgid"));
                assertEquals("Bearer it-token", after.headers().get("authorization"));
                assertEquals("gradguard", after.resource().get("service.name"));
                assertTrue(
                        after.resource().get("service.instance.id").endsWith(":" + job.process.pid()),
                        after.resource().toString());
                Metric steps = after.metric("gradguard.steps");
                assertTrue(steps.getSum().getIsMonotonic());
                assertEquals(
                        AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE,
                        steps.getSum().getAggregationTemporality());
                assertEquals("seconds", after.metric("gradguard.overhead").getUnit());

                assertEquals(0, job.waitFor(60), job.output());
                String out = job.output();
                assertTrue(
                        out.contains("; OTLP to " + receiver.url()
                                + " every 1 s with headers X-Scope-OrgID, Authorization;"),
                        out);
                assertFalse(out.contains("OTLP export to"), out);
                assertFalse(out.contains("it-token"), "a header value was printed:\n" + out);
                assertEquals(List.of(), receiver.refused());
            }
        }
    }

    @Test
    void theExitFlushAloneDeliversTheLastStep() throws Exception {
        String run = "otlp-exit-" + System.nanoTime();
        Path log = Files.createTempFile("gradguard-steps", ".jsonl");
        String classPath = ChildJvm.testClassPath();
        // The job has protobuf-java and opentelemetry-proto of its own, unrelocated, on its class path.
        assertTrue(classPath.contains("protobuf-java") && classPath.contains("opentelemetry-proto"), classPath);
        try (OtlpReceiver receiver = OtlpReceiver.start(null)) {
            // An interval far longer than the job and no endpoint: only the export at exit can arrive.
            String agentArgs =
                    "port=0,summary=0,log=" + log + ",otlp.endpoint=" + receiver.url() + ",otlp.interval=3600";
            try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                    "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                    "-Dgradguard.run=" + run,
                    "-cp",
                    classPath,
                    "io.gradguard.agent.jobs.TinyTrainingJob",
                    "25",
                    "0.05"))) {
                assertEquals(0, job.waitFor(120), job.output());
                String out = job.output();
                assertTrue(out.contains("weights_sha256="), out);
                assertTrue(out.contains("; OTLP to " + receiver.url() + " every 3600 s;"), out);
                assertFalse(out.contains("metrics at"), out);
            }
            List<OtlpReceiver.Received> received = receiver.received();
            assertEquals(1, received.size(), "exports: " + received.size() + ", refused " + receiver.refused());
            OtlpReceiver.Received last = received.get(0);
            Map<String, String> tiny = Map.of("model", "tiny", "run", run);
            assertEquals(25.0, last.value("gradguard.steps", tiny));

            List<String> records = Files.readAllLines(log);
            assertEquals(25, records.size());
            String record = records.get(24);
            assertTrue(record.contains("\"step\":25,"), record);
            assertEquals(number(record, "global_norm"), last.value("gradguard.grad.global.norm", tiny));
            Matcher top = Pattern.compile("\\{\"name\":\"([^\"]+)\",\"norm\":([^}]+)}")
                    .matcher(record);
            int parameters = 0;
            while (top.find()) {
                Map<String, String> labels = Map.of("model", "tiny", "run", run, "parameter", top.group(1));
                assertEquals(Double.parseDouble(top.group(2)), last.value("gradguard.grad.norm", labels), top.group(1));
                parameters++;
            }
            assertEquals(4, parameters, "the tiny MLP has 4 parameters");
        }
    }

    @Test
    void aReceiverThatRefusesSaysOneLineAndTheJobFinishes() throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start("Bearer right")) {
            String out = tinyJobWith("otlp.endpoint=" + receiver.url() + ",otlp.interval=1", Map.of());
            long lines = out.lines()
                    .filter(l -> l.startsWith("[gradguard] OTLP export to " + receiver.url() + " failed"))
                    .count();
            assertEquals(1, lines, out);
            assertTrue(
                    out.contains(
                            "failed (http 401): HTTP 401: refused by the test receiver; retrying at each interval"),
                    out);
            // periodic exports and the one at exit were all refused: said once
            assertTrue(receiver.refused().size() >= 2, receiver.refused().toString());
            assertFalse(out.contains("\tat "), "a stack trace reached the job's output:\n" + out);
        }
    }

    @Test
    void anUnreachableReceiverSaysOneLineAndTheJobFinishes() throws Exception {
        String url = "http://127.0.0.1:" + ChildJvm.freePort() + "/v1/metrics"; // nothing listens there
        String out = tinyJobWith("otlp.endpoint=" + url + ",otlp.interval=1", Map.of());
        long lines = out.lines()
                .filter(l -> l.startsWith("[gradguard] OTLP export to " + url + " failed"))
                .count();
        assertEquals(1, lines, out);
        assertTrue(out.contains("failed (java.net.ConnectException)"), out);
        assertFalse(out.contains("\tat "), "a stack trace reached the job's output:\n" + out);
    }

    @Test
    void anUnusableOtlpSettingSwitchesOffOnlyTheOtlpExport() throws Exception {
        try (OtlpReceiver receiver = OtlpReceiver.start(null)) {
            int port = ChildJvm.freePort();
            String out = tinyJobWith(
                    "port=" + port + ",policy.type=global-norm,otlp.endpoint=" + receiver.url()
                            + ",otlp.interval=1,otlp.headers_env=GG_NOT_SET",
                    Map.of());
            List<String> otlpLines = out.lines()
                    .filter(l -> l.startsWith("[gradguard]")
                            && l.toLowerCase(java.util.Locale.ROOT).contains("otlp"))
                    .toList();
            assertEquals(
                    List.of(
                            "[gradguard] otlp.headers_env=GG_NOT_SET names an environment variable that is not set;"
                                    + " export it with the headers, e.g. Authorization=Bearer ... (from agent args) (no OTLP export)"),
                    otlpLines,
                    out);
            assertTrue(
                    out.contains("metrics at http://127.0.0.1:" + port + "/metrics;")
                            && out.contains("; policy global-norm;"),
                    out);
            assertEquals(List.of(), receiver.received());
        }
    }

    @Test
    void theAgentJarRelocatesTheOtlpRegistryAndItsProtobuf() throws Exception {
        List<String> outside = new ArrayList<>();
        try (JarFile jar = new JarFile(ChildJvm.agentJar())) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                boolean ours = name.startsWith("io/gradguard/") || name.equals("io/") || name.startsWith("META-INF/");
                if (!ours || name.startsWith("META-INF/versions/") || name.endsWith(".proto")) {
                    outside.add(name);
                }
            }
            for (String needed : List.of(
                    "io/gradguard/shaded/io/micrometer/registry/otlp/OtlpMeterRegistry.class",
                    "io/gradguard/shaded/io/opentelemetry/proto/collector/metrics/v1/ExportMetricsServiceRequest.class",
                    "io/gradguard/shaded/com/google/protobuf/GeneratedMessageV3.class")) {
                assertTrue(jar.getEntry(needed) != null, needed);
            }
        }
        // Nothing the job could load instead of its own protobuf, OpenTelemetry or Micrometer.
        assertEquals(List.of(), outside);
    }

    /** A short tiny job with the agent; returns its output after a clean exit. */
    private static String tinyJobWith(String agentArgs, Map<String, String> environment) throws Exception {
        try (ChildJvm job = ChildJvm.start(
                ChildJvm.java(
                        "-javaagent:" + ChildJvm.agentJar() + "=summary=0," + agentArgs,
                        "-Dtiny.sleepMs=30",
                        "-cp",
                        ChildJvm.testClassPath(),
                        "io.gradguard.agent.jobs.TinyTrainingJob",
                        "80",
                        "0.05"),
                environment)) {
            assertEquals(0, job.waitFor(120), job.output());
            String out = job.output();
            assertTrue(out.contains("weights_sha256="), out);
            return out;
        }
    }

    /**
     * Every data point of the export against the Prometheus sample it names (Micrometer's naming:
     * dots become underscores, a monotonic sum gets {@code _total}, a unit gets its suffix;
     * summaries and histograms give {@code _count}, {@code _sum} and buckets), with equal values;
     * and every {@code gradguard_} sample name of the scrape is one of those, except the {@code
     * _max} gauges that Prometheus adds to timers and distribution summaries.
     *
     * @return how many values were compared
     */
    private static int assertSameSeriesAsTheScrape(OtlpReceiver.Received export, Map<String, Double> scrape) {
        Map<String, List<Map.Entry<Map<String, String>, Double>>> samples = new HashMap<>();
        scrape.forEach((key, value) -> {
            int brace = key.indexOf('{');
            String name = brace < 0 ? key : key.substring(0, brace);
            Map<String, String> labels = new HashMap<>();
            Matcher l = LABEL.matcher(brace < 0 ? "" : key.substring(brace));
            while (l.find()) {
                labels.put(
                        l.group(1),
                        l.group(2).replace("\\\"", "\"").replace("\\n", "\n").replace("\\\\", "\\"));
            }
            samples.computeIfAbsent(name, n -> new ArrayList<>()).add(Map.entry(labels, value));
        });
        TreeSet<String> mapped = new TreeSet<>();
        int compared = 0;
        for (Metric m : export.metrics()) {
            String base = m.getName().replace('.', '_')
                    + (m.getUnit().isEmpty() || m.getName().endsWith(m.getUnit()) ? "" : "_" + m.getUnit());
            switch (m.getDataCase()) {
                case GAUGE -> {
                    for (NumberDataPoint p : m.getGauge().getDataPointsList()) {
                        compared += same(samples, base, attributes(p.getAttributesList()), p.getAsDouble(), mapped);
                    }
                }
                case SUM -> {
                    String name = base + (m.getSum().getIsMonotonic() ? "_total" : "");
                    for (NumberDataPoint p : m.getSum().getDataPointsList()) {
                        compared += same(samples, name, attributes(p.getAttributesList()), p.getAsDouble(), mapped);
                    }
                }
                case SUMMARY -> {
                    for (SummaryDataPoint p : m.getSummary().getDataPointsList()) {
                        Map<String, String> a = attributes(p.getAttributesList());
                        compared += same(samples, base + "_count", a, p.getCount(), mapped);
                        compared += same(samples, base + "_sum", a, p.getSum(), mapped);
                        if (p.getQuantileValuesCount() > 0) {
                            mapped.add(base); // quantiles: each registry's own time window, not compared
                        }
                    }
                }
                case HISTOGRAM -> {
                    for (HistogramDataPoint p : m.getHistogram().getDataPointsList()) {
                        Map<String, String> a = attributes(p.getAttributesList());
                        compared += same(samples, base + "_count", a, p.getCount(), mapped);
                        compared += same(samples, base + "_sum", a, p.getSum(), mapped);
                        long cumulative = 0;
                        for (int i = 0; i < p.getExplicitBoundsCount(); i++) {
                            cumulative += p.getBucketCounts(i);
                            compared += sameBucket(
                                    samples, base + "_bucket", a, p.getExplicitBounds(i), cumulative, mapped);
                        }
                    }
                }
                default -> throw new AssertionError("unexpected OTLP data of " + m.getName() + ": " + m.getDataCase());
            }
        }
        TreeSet<String> scraped = new TreeSet<>();
        samples.keySet().stream()
                .filter(n -> n.startsWith("gradguard_") && !n.endsWith("_max"))
                .forEach(scraped::add);
        assertEquals(scraped, mapped, "series names");
        System.out.println("OTLP -> Prometheus names: " + export.names() + " -> " + mapped);
        return compared;
    }

    private static int same(
            Map<String, List<Map.Entry<Map<String, String>, Double>>> samples,
            String name,
            Map<String, String> labels,
            double value,
            TreeSet<String> mapped) {
        mapped.add(name);
        Double scraped = samples.getOrDefault(name, List.of()).stream()
                .filter(e -> e.getKey().equals(labels))
                .map(Map.Entry::getValue)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + labels + " in the scrape: " + samples.get(name)));
        assertEquals(scraped, value, 0.0, name + labels);
        return 1;
    }

    private static int sameBucket(
            Map<String, List<Map.Entry<Map<String, String>, Double>>> samples,
            String name,
            Map<String, String> labels,
            double bound,
            long cumulative,
            TreeSet<String> mapped) {
        mapped.add(name);
        double scraped = samples.getOrDefault(name, List.of()).stream()
                .filter(e -> {
                    Map<String, String> withoutLe = new HashMap<>(e.getKey());
                    String le = withoutLe.remove("le");
                    return withoutLe.equals(labels)
                            && le != null
                            && !le.equals("+Inf")
                            && Double.parseDouble(le) == bound;
                })
                .map(Map.Entry::getValue)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + labels + " le=" + bound + " in the scrape"));
        assertEquals(scraped, cumulative, 0.0, name + labels + " le=" + bound);
        return 1;
    }

    private static Map<String, String> attributes(List<io.opentelemetry.proto.common.v1.KeyValue> list) {
        return new HashMap<>(OtlpReceiver.attributes(list));
    }

    private static boolean has(OtlpReceiver.Received r, String name) {
        return r.names().contains(name);
    }

    private static double number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":([-0-9.eE]+|null)").matcher(json);
        assertTrue(m.find(), field + " in " + json);
        return m.group(1).equals("null") ? Double.NaN : Double.parseDouble(m.group(1));
    }
}
