package io.gradguard.grafana;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * {@code ./gradguard fleet}: what gradguard costs a Prometheus, measured. Not a test: it takes minutes and its
 * figures depend on the machine; docs/fleet.md holds a run's output.
 *
 * <ol>
 *   <li><b>Per job.</b> Runs a real DJL job with the agent for each parameter count asked (arrays, not weights;
 *       {@code ManyParametersJob}), scrapes its endpoint once every parameter has all its series, and counts
 *       series and bytes per scrape (plain and gzip). A least-squares line through the points below the cap gives
 *       series per job = fixed + per-parameter x parameters.</li>
 *   <li><b>Fleet.</b> Serves the largest job's exposition (the real text, with the run and model labels made
 *       distinct per endpoint and every value moving a little each scrape) from N endpoints on loopback, and runs
 *       the real Prometheus (with grafana/prometheus/rules.yml and alerts.yml) scraping them. After a fixed number
 *       of scrapes it reads Prometheus' own {@code prometheus_tsdb_head_series}, {@code
 *       process_resident_memory_bytes} and Go heap, the scrape durations and the rule evaluation time. A line
 *       through (head series, memory) gives bytes per series, extrapolated to 1,000 jobs; the largest fleet then
 *       scrapes on and is measured again, to show how memory moves as samples accumulate.</li>
 * </ol>
 */
public final class FleetCardinality {

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern STEPS = Pattern.compile("(?m)^gradguard_steps_total\\{[^}]*\\} ([0-9.eE+]+)$");
    private static final Pattern SAMPLE = Pattern.compile("^(.*[}a-zA-Z0-9_]) (\\S+)$");
    private static final Pattern LABEL = Pattern.compile("(run|model)=\"[^\"]*\"");
    private static final Pattern RULE_GROUP = Pattern.compile("rule_group=\"[^\"]*;([^\"]*)\"");
    private static final int CAP = 500;

    /** One job's exposition and its size. */
    record Exposition(int parameters, String text, int series, int perParameterSeries, int bytes, int gzipBytes) {}

    /** Prometheus' own figures after a number of scrapes of a fleet. */
    record FleetPoint(
            int endpoints,
            int scrapes,
            double headSeries,
            double rssBytes,
            double heapBytes,
            double scrapeSeconds,
            Map<String, Double> ruleSeconds,
            double missedRuleIterations,
            double up) {}

    private FleetCardinality() {}

    /**
     * Runs the harness; prints markdown tables to stdout, progress to stderr.
     *
     * @param args {@code --agent JAR --job-classpath CP} and options, see {@code usage()}
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = options(args);
        Path agent = Path.of(require(o, "agent"));
        String jobClassPath = require(o, "job-classpath");
        List<Integer> parameters = ints(o.getOrDefault("parameters", "4,50,200,600"));
        List<Integer> fleet = ints(o.getOrDefault("fleet", "0,25,50,100"));
        int scrapes = Integer.parseInt(o.getOrDefault("scrapes", "8"));
        int longScrapes = Integer.parseInt(o.getOrDefault("long-scrapes", "32"));
        int interval = Integer.parseInt(o.getOrDefault("interval", "5"));
        Path rules =
                Path.of(o.getOrDefault("rules", "grafana/prometheus/rules.yml")).toAbsolutePath();
        Path alerts = Path.of(o.getOrDefault("alerts", "grafana/prometheus/alerts.yml"))
                .toAbsolutePath();

        System.out.printf(
                Locale.ROOT,
                "gradguard fleet cardinality, %s; nproc %d, java %s, %s%n",
                ZonedDateTime.now(),
                Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"),
                prometheusVersion());

        List<Exposition> jobs = new ArrayList<>();
        for (int p : parameters) {
            jobs.add(capture(agent, jobClassPath, p));
        }
        System.out.println();
        System.out.println(
                "| parameter arrays | per-parameter series | series per job | bytes per scrape | gzip bytes |");
        System.out.println("|---:|---:|---:|---:|---:|");
        for (Exposition e : jobs) {
            System.out.printf(
                    Locale.ROOT,
                    "| %d | %d | %d | %d | %d |%n",
                    e.parameters(),
                    e.perParameterSeries(),
                    e.series(),
                    e.bytes(),
                    e.gzipBytes());
        }
        double[] line = fit(jobs.stream()
                .filter(e -> e.parameters() <= CAP)
                .map(e -> new double[] {e.parameters(), e.series()})
                .toList());
        System.out.printf(
                Locale.ROOT,
                "%nseries per job = %.1f + %.2f x min(parameters, max_parameters=%d)%n",
                line[0],
                line[1],
                CAP);

        Exposition template = jobs.get(jobs.size() - 1);
        List<FleetPoint> points = new ArrayList<>();
        FleetPoint longRun = null;
        try (Fleet sim = new Fleet(
                template.text(),
                fleet.stream().mapToInt(Integer::intValue).max().orElse(0))) {
            for (int n : fleet) {
                boolean last = n == fleet.get(fleet.size() - 1);
                List<FleetPoint> measured =
                        runFleet(sim, n, interval, scrapes, last && n > 0 ? longScrapes : 0, rules, alerts);
                points.add(measured.get(0));
                if (measured.size() > 1) {
                    longRun = measured.get(1);
                }
            }
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT,
                "fleet: %d-series endpoints (the %d-array job's exposition), scrape interval %d s,"
                        + " rules.yml + alerts.yml loaded%n",
                template.series(),
                template.parameters(),
                interval);
        System.out.println("| endpoints | scrapes | up | head series | RSS MiB | Go heap in use MiB | mean scrape s |"
                + " last evaluation s, per rule group | missed rule evaluations |");
        System.out.println("|---:|---:|---:|---:|---:|---:|---:|---|---:|");
        List<FleetPoint> all = new ArrayList<>(points);
        if (longRun != null) {
            all.add(longRun);
        }
        for (FleetPoint p : all) {
            StringBuilder groups = new StringBuilder();
            p.ruleSeconds()
                    .forEach((g, v) -> groups.append(groups.length() == 0 ? "" : ", ")
                            .append(String.format(Locale.ROOT, "%s %.3f", g, v)));
            System.out.printf(
                    Locale.ROOT,
                    "| %d | %d | %.0f | %.0f | %.1f | %.1f | %.4f | %s | %.0f |%n",
                    p.endpoints(),
                    p.scrapes(),
                    p.up(),
                    p.headSeries(),
                    p.rssBytes() / (1 << 20),
                    p.heapBytes() / (1 << 20),
                    p.scrapeSeconds(),
                    groups,
                    p.missedRuleIterations());
        }
        double[] rss = fit(points.stream()
                .map(p -> new double[] {p.headSeries(), p.rssBytes()})
                .toList());
        double[] heap = fit(points.stream()
                .map(p -> new double[] {p.headSeries(), p.heapBytes()})
                .toList());
        System.out.printf(
                Locale.ROOT,
                "%nRSS = %.0f MiB + %.0f bytes x head series; Go heap in use = %.0f MiB + %.0f bytes x head series%n",
                rss[0] / (1 << 20),
                rss[1],
                heap[0] / (1 << 20),
                heap[1]);
        FleetPoint biggest = points.get(points.size() - 1);
        if (longRun != null) {
            System.out.printf(
                    Locale.ROOT,
                    "%d more scrapes of the largest fleet: head series %+.0f, RSS %+.1f MiB, Go heap %+.1f MiB"
                            + " (%.0f bytes of heap per head series)%n",
                    longRun.scrapes() - biggest.scrapes(),
                    longRun.headSeries() - biggest.headSeries(),
                    (longRun.rssBytes() - biggest.rssBytes()) / (1 << 20),
                    (longRun.heapBytes() - biggest.heapBytes()) / (1 << 20),
                    longRun.heapBytes() / longRun.headSeries());
        }
        double seriesPerRun = biggest.endpoints() == 0 ? Double.NaN : biggest.headSeries() / biggest.endpoints();
        double fleetSeries = 1000 * seriesPerRun;
        System.out.printf(
                Locale.ROOT,
                "%n1,000 jobs x %d parameter arrays (capped at %d): %.0f head series (%.0f per job, with the"
                        + " recording rules' output and scrape series), %.0f samples/s at a 15 s interval, %.1f MB/s of plain"
                        + " exposition (%.1f MB/s gzip)%n",
                template.parameters(),
                CAP,
                fleetSeries,
                seriesPerRun,
                fleetSeries / 15,
                1000.0 * template.bytes() / 15 / 1e6,
                1000.0 * template.gzipBytes() / 15 / 1e6);
        System.out.printf(
                Locale.ROOT,
                "  memory after %d scrapes: RSS %.1f GiB (Go heap %.1f GiB)%n",
                biggest.scrapes(),
                (rss[0] + rss[1] * fleetSeries) / (1L << 30),
                (heap[0] + heap[1] * fleetSeries) / (1L << 30));
    }

    /** Runs a job with {@code parameters} arrays and the agent; returns its exposition once complete. */
    private static Exposition capture(Path agent, String classPath, int parameters) throws Exception {
        int port = PrometheusServer.freePort();
        int layers = Math.max(1, parameters / 2 - 1);
        Path log = Files.createTempFile("gradguard-fleet-job", ".log");
        log.toFile().deleteOnExit();
        Process job = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Dai.djl.offline=true",
                        "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.pytorch.num_interop_threads=1",
                        "-javaagent:" + agent + "=port=" + port + ",summary=0",
                        "-cp",
                        classPath,
                        "io.gradguard.agent.jobs.ManyParametersJob",
                        String.valueOf(layers))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        job.getOutputStream().close();
        try {
            int arrays = 2 * (layers + 1);
            int expected = Math.min(arrays, CAP);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
            while (System.nanoTime() < end) {
                if (!job.isAlive()) {
                    throw new IllegalStateException("the job ended:\n" + Files.readString(log));
                }
                String text = get("http://127.0.0.1:" + port + "/metrics");
                Matcher steps = text == null ? null : STEPS.matcher(text);
                if (steps != null
                        && steps.find()
                        && Double.parseDouble(steps.group(1)) > 110
                        && count(text, "gradguard_update_ratio{") == expected) {
                    Exposition e = new Exposition(
                            arrays,
                            text,
                            series(text),
                            count(text, "gradguard_grad_norm{")
                                    + count(text, "gradguard_grad_max_abs{")
                                    + count(text, "gradguard_param_norm{")
                                    + count(text, "gradguard_update_ratio{"),
                            text.getBytes(StandardCharsets.UTF_8).length,
                            gzip(text));
                    System.err.printf(
                            Locale.ROOT,
                            "[fleet] job with %d parameter arrays: %d series, %d bytes%n",
                            arrays,
                            e.series(),
                            e.bytes());
                    return e;
                }
                Thread.sleep(500);
            }
            throw new IllegalStateException("no complete exposition after 180 s:\n" + Files.readString(log));
        } finally {
            job.destroyForcibly();
            job.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * One fleet size: a fresh Prometheus scraping {@code n} endpoints for {@code scrapes} scrapes, measured; with
     * {@code moreScrapes} it scrapes that many more and is measured again.
     */
    private static List<FleetPoint> runFleet(
            Fleet sim, int n, int interval, int scrapes, int moreScrapes, Path rules, Path alerts) throws Exception {
        Path dir = Files.createTempDirectory("gradguard-fleet-prometheus");
        StringBuilder config = new StringBuilder();
        config.append("global:\n  scrape_interval: ")
                .append(interval)
                .append("s\n  scrape_timeout: ")
                .append(interval - 1)
                .append("s\n  evaluation_interval: ")
                .append(interval)
                .append("s\n");
        config.append("rule_files:\n  - ")
                .append(rules)
                .append("\n  - ")
                .append(alerts)
                .append('\n');
        config.append("scrape_configs:\n  - job_name: gradguard\n    static_configs:\n");
        if (n == 0) {
            config.append("      []\n");
        }
        for (int i = 0; i < n; i++) {
            config.append("      - targets: ['127.0.0.1:")
                    .append(sim.port())
                    .append("']\n")
                    .append("        labels: {__metrics_path__: '/sim/")
                    .append(i)
                    .append("/metrics', instance: 'job-")
                    .append(i)
                    .append(":9404'}\n");
        }
        List<FleetPoint> out = new ArrayList<>();
        try (PrometheusServer prometheus = PrometheusServer.start(dir, config.toString())) {
            long started = System.nanoTime();
            int[] marks = moreScrapes > 0 ? new int[] {scrapes, scrapes + moreScrapes} : new int[] {scrapes};
            for (int mark : marks) {
                long due = started + TimeUnit.SECONDS.toNanos((long) interval * mark + 2);
                while (System.nanoTime() < due) {
                    Thread.sleep(250);
                }
                out.add(measure(prometheus, n, mark));
                FleetPoint p = out.get(out.size() - 1);
                System.err.printf(
                        Locale.ROOT,
                        "[fleet] %d endpoints, %d scrapes: %.0f head series, RSS %.0f MiB%n",
                        n,
                        mark,
                        p.headSeries(),
                        p.rssBytes() / (1 << 20));
            }
        } finally {
            deleteTree(dir);
        }
        return out;
    }

    private static FleetPoint measure(PrometheusServer prometheus, int n, int scrapes) throws Exception {
        Map<String, Double> self = parse(get(prometheus.baseUri() + "/metrics"));
        Map<String, Double> rules = new java.util.TreeMap<>();
        double missed = 0;
        for (Map.Entry<String, Double> e : self.entrySet()) {
            Matcher group = RULE_GROUP.matcher(e.getKey());
            if (e.getKey().startsWith("prometheus_rule_group_last_duration_seconds{") && group.find()) {
                rules.put(group.group(1), e.getValue());
            } else if (e.getKey().startsWith("prometheus_rule_group_iterations_missed_total{")) {
                missed += e.getValue();
            }
        }
        return new FleetPoint(
                n,
                scrapes,
                self.getOrDefault("prometheus_tsdb_head_series", Double.NaN),
                self.getOrDefault("process_resident_memory_bytes", Double.NaN),
                self.getOrDefault("go_memstats_heap_inuse_bytes", Double.NaN),
                n == 0 ? 0 : scalar(prometheus, "avg(scrape_duration_seconds{job=\"gradguard\"})"),
                rules,
                missed,
                n == 0 ? 0 : scalar(prometheus, "sum(up{job=\"gradguard\"})"));
    }

    private static double scalar(PrometheusServer prometheus, String promql) throws Exception {
        var result = prometheus.query(promql).path("data").path("result");
        return result.isEmpty()
                ? Double.NaN
                : result.get(0).path("value").get(1).asDouble();
    }

    /**
     * The simulated fleet: one loopback HTTP server answering {@code /sim/I/metrics} with the template exposition,
     * {@code run} and {@code model} set per endpoint (20 models), every sample value moved by a small step per scrape.
     */
    private static final class Fleet implements AutoCloseable {
        private final HttpServer server;
        private final List<String> prefixes = new ArrayList<>();
        private final List<Double> values = new ArrayList<>();
        private final List<String> comments = new ArrayList<>();
        private final Map<Integer, AtomicLong> scrapes = new ConcurrentHashMap<>();
        private final Map<Integer, String[]> labelled = new ConcurrentHashMap<>();

        Fleet(String template, int endpoints) throws IOException {
            for (String line : template.split("\n")) {
                Matcher m = SAMPLE.matcher(line);
                if (line.startsWith("#") || !m.matches()) {
                    comments.add(line);
                    prefixes.add(null);
                    values.add(null);
                } else {
                    comments.add(null);
                    prefixes.add(m.group(1));
                    values.add(Double.parseDouble(
                            m.group(2).replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
                }
            }
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
            server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
            server.createContext("/sim/", exchange -> {
                String[] parts = exchange.getRequestURI().getPath().split("/");
                int i = Integer.parseInt(parts[2]);
                byte[] body = body(
                        i, scrapes.computeIfAbsent(i, k -> new AtomicLong()).incrementAndGet());
                exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream os = exchange.getResponseBody()) {
                    os.write(body);
                }
            });
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        /** The template's series names and labels with this endpoint's run and model. */
        private String[] labelled(int endpoint) {
            String run = "run=\"sim-run-" + endpoint + "\"";
            String model = "model=\"sim-model-" + (endpoint % 20) + "\"";
            String[] out = new String[prefixes.size()];
            for (int i = 0; i < out.length; i++) {
                if (prefixes.get(i) != null) {
                    Matcher m = LABEL.matcher(prefixes.get(i));
                    StringBuilder labels = new StringBuilder();
                    while (m.find()) {
                        m.appendReplacement(labels, m.group(1).equals("run") ? run : model);
                    }
                    m.appendTail(labels);
                    out[i] = labels.toString();
                }
            }
            return out;
        }

        private byte[] body(int endpoint, long scrape) {
            String[] labels = labelled.computeIfAbsent(endpoint, this::labelled);
            StringBuilder b = new StringBuilder(256 * 1024);
            for (int i = 0; i < prefixes.size(); i++) {
                if (prefixes.get(i) == null) {
                    b.append(comments.get(i)).append('\n');
                    continue;
                }
                double v = values.get(i);
                b.append(labels[i])
                        .append(' ')
                        .append(Double.isFinite(v) ? Double.toString(v + scrape * 1e-3) : Double.toString(v))
                        .append('\n');
            }
            return b.toString().getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void close() {
            server.stop(0);
            ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Least squares: {intercept, slope}. */
    private static double[] fit(List<double[]> points) {
        int n = points.size();
        double sx = 0;
        double sy = 0;
        double sxx = 0;
        double sxy = 0;
        for (double[] p : points) {
            sx += p[0];
            sy += p[1];
            sxx += p[0] * p[0];
            sxy += p[0] * p[1];
        }
        double slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
        return new double[] {(sy - slope * sx) / n, slope};
    }

    private static Map<String, Double> parse(String text) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!line.startsWith("#") && m.matches()) {
                try {
                    out.put(m.group(1), Double.parseDouble(m.group(2)));
                } catch (NumberFormatException e) {
                    // +Inf and the like: not a figure read here
                }
            }
        }
        return out;
    }

    private static int series(String text) {
        int n = 0;
        for (String line : text.split("\n")) {
            n += line.isBlank() || line.startsWith("#") ? 0 : 1;
        }
        return n;
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static int gzip(String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(bytes)) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.size();
    }

    private static String get(String url) throws InterruptedException {
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(url))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException e) {
            return null;
        }
    }

    private static String prometheusVersion() throws IOException, InterruptedException {
        Path binary = PrometheusServer.findBinary("prometheus")
                .orElseThrow(() ->
                        new IllegalStateException("prometheus not found on PATH: " + PrometheusServer.INSTALL_HINT));
        Process p = new ProcessBuilder(binary.toString(), "--version")
                .redirectErrorStream(true)
                .start();
        String first = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .lines()
                .findFirst()
                .orElse("");
        p.waitFor(10, TimeUnit.SECONDS);
        return first;
    }

    private static List<Integer> ints(String list) {
        List<Integer> out = new ArrayList<>();
        for (String s : list.split(",")) {
            out.add(Integer.parseInt(s.trim()));
        }
        return out;
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad argument " + args[i] + "\n" + usage());
            }
            o.put(args[i].substring(2), args[i + 1]);
        }
        return o;
    }

    private static String require(Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required\n" + usage());
        }
        return v;
    }

    private static String usage() {
        return String.join(
                "\n",
                "usage: FleetCardinality --agent JAR --job-classpath CP [options]",
                "  --parameters LIST    parameter arrays per measured job, default 4,50,200,600 (the last is the fleet's template)",
                "  --fleet LIST         simulated endpoints per Prometheus run, default 0,25,50,100",
                "  --scrapes N          scrapes before each measurement, default 8",
                "  --long-scrapes N     further scrapes of the largest fleet, measured again; default 32",
                "  --interval S         scrape and rule interval in seconds, default 5",
                "  --rules F --alerts F the rule files Prometheus loads, default grafana/prometheus/{rules,alerts}.yml");
    }
}
