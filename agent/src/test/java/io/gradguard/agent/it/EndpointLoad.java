package io.gradguard.agent.it;

import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One training job (one PyTorch thread) under scrape load: quiet and loaded windows of 2 s
 * alternate, and in every loaded one 32 scrapers ask {@code /metrics} and 4 open live pages poll
 * {@code /api/steps}. Every step is put in the window it ended in, so quiet and loaded step times
 * come from the same job on the same machine, a few seconds apart.
 *
 * <p>{@code EndpointLoadIT} checks that everything is answered; {@code ./gradguard bench --only
 * endpoint} reports what the load costs the job's step time.
 */
public final class EndpointLoad {

    public static final int SCRAPERS = 32;
    // Live pages open through the run, polling every 250 ms in the loaded windows (each has its full
    // first load in the first one) and idle in the quiet ones.
    public static final int PAGES = 4;
    public static final long WINDOW_MS = 2000;
    // Steps ending this soon after a switch belong to neither side: scrapers start and drain.
    private static final long SETTLE_MS = 250;
    // Each scraper waits this long between its scrapes: 32 scrapers then ask up to 128 times a
    // second, some 2000 times what one Prometheus scraping every 15 s asks.
    private static final long PAUSE_MS = 250;
    private static final Pattern AGENT_ERRORS = Pattern.compile("(?m)^gradguard_agent_errors_total\\{[^}]*\\} (\\S+)$");

    /**
     * What one run saw.
     *
     * @param answered scrapes answered 200 with the agent's metrics
     * @param failed scrapes that failed or were answered otherwise
     * @param firstFailure the first of those, or null
     * @param errorsSeen answered scrapes that showed an agent error above zero
     * @param pagePolls live-page polls answered
     * @param pageRows step rows the live pages received
     * @param windowNanos per window, quiet first, the step times that ended in it
     * @param jobCpuQuiet the job's CPU per second in the quiet windows, in ms
     * @param jobCpuLoaded the same in the loaded windows
     * @param clientsCpuMs the CPU the scrapers and pages used, in ms
     * @param exitCode the job's exit code
     * @param jobOutput the job's whole output
     */
    public record Result(
            int answered,
            int failed,
            String firstFailure,
            int errorsSeen,
            long pagePolls,
            long pageRows,
            List<List<Long>> windowNanos,
            double jobCpuQuiet,
            double jobCpuLoaded,
            long clientsCpuMs,
            int exitCode,
            String jobOutput) {

        /** The step times of the quiet windows. */
        public List<Long> quietNanos() {
            return every(0);
        }

        /** The step times of the loaded windows. */
        public List<Long> loadedNanos() {
            return every(1);
        }

        public double quietMedianMs() {
            return median(quietNanos());
        }

        public double loadedMedianMs() {
            return median(loadedNanos());
        }

        /**
         * Per loaded window, its median step over the mean of its two quiet neighbours' medians:
         * a drift of the machine's speed over the run cancels instead of landing on one side.
         */
        public List<Double> windowRatios() {
            List<Double> ratios = new ArrayList<>();
            for (int w = 1; w + 1 < windowNanos.size(); w += 2) {
                double quiet = (median(windowNanos.get(w - 1)) + median(windowNanos.get(w + 1))) / 2;
                ratios.add(median(windowNanos.get(w)) / quiet);
            }
            return ratios;
        }

        /** The CPU the scrapers and pages used per second of the loaded windows, in ms. */
        public double clientsCpuPerLoadedSecond() {
            double seconds = windowNanos.size() / 2 * WINDOW_MS / 1000.0;
            return seconds == 0 ? Double.NaN : clientsCpuMs / seconds;
        }

        private List<Long> every(int parity) {
            List<Long> all = new ArrayList<>();
            for (int w = parity; w < windowNanos.size(); w += 2) {
                all.addAll(windowNanos.get(w));
            }
            return all;
        }
    }

    private final String agentJar;
    private final String classPath;
    private final int windows;
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger failed = new AtomicInteger();
    private final AtomicInteger errorsSeen = new AtomicInteger();
    private final AtomicReference<String> firstFailure = new AtomicReference<>();

    private EndpointLoad(String agentJar, String classPath, int windows) {
        this.agentJar = agentJar;
        this.classPath = classPath;
        this.windows = windows;
    }

    /**
     * Runs one job through {@code windows} windows, quiet first.
     *
     * @param agentJar the agent
     * @param classPath a class path with DJL and the agent's test jobs, without the agent
     * @param windows how many 2 s windows; every second one is loaded
     * @param dir where the job writes its step times
     * @return what was seen; the caller judges it
     * @throws Exception when the job cannot be started or does not end
     */
    public static Result run(String agentJar, String classPath, int windows, Path dir) throws Exception {
        return new EndpointLoad(agentJar, classPath, windows).run(dir);
    }

    private Result run(Path dir) throws Exception {
        Path steps = dir.resolve("steps.txt");
        int port = ChildJvm.freePort();
        long[][] spans = new long[windows][];
        long pagePolls = 0;
        long pageRows = 0;
        String[] pageCursors = new String[PAGES];
        Arrays.fill(pageCursors, "");
        long[] jobCpuMs = new long[2];
        long clientsCpuMs;
        int exitCode;
        String output;
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + agentJar + "=port=" + port + ",summary=0",
                "-Dtimed.stepsFile=" + steps,
                "-cp",
                classPath,
                "io.gradguard.agent.jobs.TimedTrainingJob",
                String.valueOf(windows * WINDOW_MS / 1000 + 3)))) {
            job.awaitOutput("training_started", 90);
            long cpu0 = ownCpuNanos();
            for (int w = 0; w < windows; w++) {
                long jobCpu0 = jobCpuMillis(job);
                long start = System.currentTimeMillis();
                if (w % 2 == 1) {
                    List<LivePagePoller> pages = new ArrayList<>();
                    for (int p = 0; p < PAGES; p++) {
                        pages.add(LivePagePoller.start(port, pageCursors[p]));
                    }
                    scrapeFor(port, WINDOW_MS);
                    for (int p = 0; p < PAGES; p++) {
                        LivePagePoller page = pages.get(p);
                        page.close();
                        pageCursors[p] = page.cursor();
                        pagePolls += page.polls();
                        pageRows += page.rows();
                    }
                } else {
                    Thread.sleep(WINDOW_MS);
                }
                spans[w] = new long[] {start, System.currentTimeMillis()};
                jobCpuMs[w % 2] += jobCpuMillis(job) - jobCpu0;
            }
            clientsCpuMs = (ownCpuNanos() - cpu0) / 1_000_000;
            exitCode = job.waitFor(120);
            output = job.output();
        }
        List<List<Long>> windowNanos = new ArrayList<>();
        for (int w = 0; w < windows; w++) {
            windowNanos.add(new ArrayList<>());
        }
        for (String line : Files.readAllLines(steps)) {
            String[] f = line.split(" ");
            long at = Long.parseLong(f[0]);
            for (int w = 0; w < windows; w++) {
                if (at >= spans[w][0] + SETTLE_MS && at < spans[w][1]) {
                    windowNanos.get(w).add(Long.parseLong(f[1]));
                }
            }
        }
        double windowSeconds = (windows + 1) / 2 * WINDOW_MS / 1000.0;
        double loadedSeconds = windows / 2 * WINDOW_MS / 1000.0;
        return new Result(
                answered.get(),
                failed.get(),
                firstFailure.get(),
                errorsSeen.get(),
                pagePolls,
                pageRows,
                windowNanos,
                jobCpuMs[0] / windowSeconds,
                loadedSeconds == 0 ? Double.NaN : jobCpuMs[1] / loadedSeconds,
                clientsCpuMs,
                exitCode,
                output);
    }

    /** 32 scrapers for {@code millis}; each loop is bounded by the window's end and stops by itself. */
    private void scrapeFor(int port, long millis) throws Exception {
        // Blocking HttpURLConnection with keep-alive: the scrapers share the job's two cores, so the
        // cheapest client leaves the measurement to the endpoint rather than to the clients' own cost.
        URL url = URI.create("http://127.0.0.1:" + port + "/metrics").toURL();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        ExecutorService pool = Executors.newFixedThreadPool(SCRAPERS);
        try {
            List<Future<?>> scrapers = new ArrayList<>();
            for (int i = 0; i < SCRAPERS; i++) {
                scrapers.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        try {
                            scrapeOnce(url);
                            Thread.sleep(PAUSE_MS);
                        } catch (InterruptedException e) {
                            return null;
                        } catch (Exception e) {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, e.toString());
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : scrapers) {
                f.get(millis + 30_000, TimeUnit.MILLISECONDS); // a scrape in flight at the end still counts
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private void scrapeOnce(URL url) throws Exception {
        HttpURLConnection c = (HttpURLConnection) url.openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(15_000);
        int status = c.getResponseCode();
        String body;
        try (InputStream in = status == 200 ? c.getInputStream() : c.getErrorStream()) {
            body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (status == 200 && body.contains("gradguard_steps_total")) {
            answered.incrementAndGet();
            Matcher e = AGENT_ERRORS.matcher(body);
            while (e.find()) {
                if (Double.parseDouble(e.group(1)) > 0) {
                    errorsSeen.incrementAndGet();
                }
            }
        } else {
            failed.incrementAndGet();
            firstFailure.compareAndSet(null, "status " + status + ", " + body.length() + " bytes");
        }
    }

    /** The median of step times, in ms; NaN for none. */
    public static double median(List<Long> nanos) {
        long[] sorted = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2] / 1e6;
    }

    private static long jobCpuMillis(ChildJvm job) {
        return job.process.info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
    }

    private static long ownCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
