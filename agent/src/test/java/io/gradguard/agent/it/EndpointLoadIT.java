package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 32 concurrent scrapers and 4 open live pages cost the training job less than 5% of its median
 * step time, and every scrape is answered.
 *
 * <p>The machine this runs on is shared, so its load drifts by tens of percent from one run to the
 * next (two separate runs measured +89% and -27% for the same code). The comparison therefore
 * happens inside one job, one PyTorch thread: quiet and loaded windows of 2 s alternate for 40 s
 * (20 s under 32 scrapers in all), and every step is put in the window it ended in.
 */
class EndpointLoadIT {

    private static final int SCRAPERS = 32;
    // Live pages open through the test, polling every 250 ms in the loaded windows (each has its full
    // first load in the first one) and idle in the quiet ones.
    private static final int PAGES = 4;
    private static final int WINDOWS = 20; // alternating quiet, loaded, quiet, ...
    private static final long WINDOW_MS = 2000;
    // Steps ending this soon after a switch belong to neither side: scrapers start and drain.
    private static final long SETTLE_MS = 250;
    // Each scraper waits this long between its scrapes: 32 scrapers then ask up to 128 times a
    // second, some 2000 times what one Prometheus scraping every 15 s asks.
    private static final long PAUSE_MS = 250;
    private static final java.util.concurrent.atomic.AtomicReference<String> FIRST_FAILURE =
            new java.util.concurrent.atomic.AtomicReference<>();
    private static final Pattern MEDIAN = Pattern.compile("steps=(\\d+) median_step_ms=([0-9.]+)");
    private static final Pattern AGENT_ERRORS = Pattern.compile("(?m)^gradguard_agent_errors_total\\{[^}]*\\} (\\S+)$");

    @Test
    void thirtyTwoScrapersAndFourLivePagesCostTrainingLessThanFivePercent(@TempDir Path dir) throws Exception {
        Path steps = dir.resolve("steps.txt");
        int port = ChildJvm.freePort();
        long[][] windows = new long[WINDOWS][];
        AtomicInteger answered = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        AtomicInteger errorsSeen = new AtomicInteger();
        long pagePolls = 0;
        long pageRows = 0;
        String[] pageCursors = new String[PAGES];
        Arrays.fill(pageCursors, "");
        long scrapersCpuMs;
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=" + port + ",summary=0",
                "-Dtimed.stepsFile=" + steps,
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TimedTrainingJob",
                String.valueOf(WINDOWS * WINDOW_MS / 1000 + 3)))) {
            job.awaitOutput("training_started", 90);
            long cpu0 = testCpuNanos();
            long[] jobCpuMs = new long[2];
            for (int w = 0; w < WINDOWS; w++) {
                long jobCpu0 = jobCpuMillis(job);
                long start = System.currentTimeMillis();
                if (w % 2 == 1) {
                    List<LivePagePoller> pages = new ArrayList<>();
                    for (int p = 0; p < PAGES; p++) {
                        pages.add(LivePagePoller.start(port, pageCursors[p]));
                    }
                    scrapeFor(port, WINDOW_MS, answered, failed, errorsSeen);
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
                windows[w] = new long[] {start, System.currentTimeMillis()};
                jobCpuMs[w % 2] += jobCpuMillis(job) - jobCpu0;
            }
            // The job's CPU per second, quiet and loaded: the difference is what serving scrapes costs it.
            System.out.printf(
                    Locale.ROOT,
                    "[EndpointLoadIT] job cpu quiet %.0f ms/s, loaded %.0f ms/s%n",
                    jobCpuMs[0] * 1000.0 / (WINDOWS / 2 * WINDOW_MS),
                    jobCpuMs[1] * 1000.0 / (WINDOWS / 2 * WINDOW_MS));
            scrapersCpuMs = (testCpuNanos() - cpu0) / 1_000_000;
            System.out.printf(
                    Locale.ROOT,
                    "[EndpointLoadIT] %d live pages in the loaded windows: %d polls of /api/steps answered, %d step rows%n",
                    PAGES,
                    pagePolls,
                    pageRows);
            assertEquals(0, job.waitFor(120), job.output());
            assertTrue(job.output().contains("weights_sha256="), job.output());
            assertFalse(job.output().contains("contained a failure"), job.output());
            Matcher m = MEDIAN.matcher(job.output());
            assertTrue(m.find(), job.output());
            System.out.println("[EndpointLoadIT] whole job: " + m.group());
        }

        List<Long> quiet = new ArrayList<>();
        List<Long> loaded = new ArrayList<>();
        for (String line : Files.readAllLines(steps)) {
            String[] f = line.split(" ");
            long at = Long.parseLong(f[0]);
            for (int w = 0; w < WINDOWS; w++) {
                if (at >= windows[w][0] + SETTLE_MS && at < windows[w][1]) {
                    (w % 2 == 1 ? loaded : quiet).add(Long.parseLong(f[1]));
                }
            }
        }
        double quietMs = median(quiet);
        double loadedMs = median(loaded);
        double ratio = loadedMs / quietMs;
        System.out.printf(
                Locale.ROOT,
                "[EndpointLoadIT] %d scrapers, %d x %d ms loaded windows: scrapes answered %d, failed %d, showing agent errors %d;"
                        + " median step quiet %.4f ms (%d steps), loaded %.4f ms (%d steps), ratio %.4f (%+.2f%%); scrapers' own cpu %d ms%n",
                SCRAPERS,
                WINDOWS / 2,
                WINDOW_MS,
                answered.get(),
                failed.get(),
                errorsSeen.get(),
                quietMs,
                quiet.size(),
                loadedMs,
                loaded.size(),
                ratio,
                (ratio - 1) * 100,
                scrapersCpuMs);
        assertEquals(0, failed.get(), "unanswered scrapes; the first: " + FIRST_FAILURE.get());
        assertTrue(pagePolls >= PAGES * (WINDOWS / 2) * 4L, "live pages' polls answered: " + pagePolls);
        assertEquals(0, errorsSeen.get(), "scrapes showing gradguard_agent_errors_total > 0");
        assertTrue(answered.get() >= SCRAPERS * WINDOWS / 2, "only " + answered.get() + " scrapes answered");
        assertTrue(quiet.size() > 1000 && loaded.size() > 1000, quiet.size() + " / " + loaded.size() + " steps");
        assertTrue(
                ratio < 1.05,
                String.format(Locale.ROOT, "median step time rose %.2f%% under scrape load", (ratio - 1) * 100));
    }

    /** 32 scrapers for {@code millis}; each loop is bounded by the window's end and stops by itself. */
    private static void scrapeFor(int port, long millis, AtomicInteger ok, AtomicInteger bad, AtomicInteger errorsSeen)
            throws Exception {
        // Blocking HttpURLConnection with keep-alive: the scrapers share the job's two cores, so the
        // cheapest client leaves the measurement to the endpoint rather than to the test's own cost.
        URL url = URI.create("http://127.0.0.1:" + port + "/metrics").toURL();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        ExecutorService pool = Executors.newFixedThreadPool(SCRAPERS);
        try {
            List<Future<?>> scrapers = new ArrayList<>();
            for (int i = 0; i < SCRAPERS; i++) {
                scrapers.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        try {
                            HttpURLConnection c = (HttpURLConnection) url.openConnection();
                            c.setConnectTimeout(5000);
                            c.setReadTimeout(15_000);
                            int status = c.getResponseCode();
                            String body;
                            try (InputStream in = status == 200 ? c.getInputStream() : c.getErrorStream()) {
                                body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
                            }
                            if (status == 200 && body.contains("gradguard_steps_total")) {
                                ok.incrementAndGet();
                                Matcher e = AGENT_ERRORS.matcher(body);
                                while (e.find()) {
                                    if (Double.parseDouble(e.group(1)) > 0) {
                                        errorsSeen.incrementAndGet();
                                    }
                                }
                            } else {
                                bad.incrementAndGet();
                                FIRST_FAILURE.compareAndSet(null, "status " + status + ", " + body.length() + " bytes");
                            }
                            Thread.sleep(PAUSE_MS);
                        } catch (InterruptedException e) {
                            return null;
                        } catch (Exception e) {
                            bad.incrementAndGet();
                            FIRST_FAILURE.compareAndSet(null, e.toString());
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

    private static double median(List<Long> nanos) {
        long[] sorted = nanos.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length / 2] / 1e6;
    }

    private static long jobCpuMillis(ChildJvm job) {
        return job.process.info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
    }

    private static long testCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
