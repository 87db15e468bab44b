package io.gradguard.agent.it;

import io.gradguard.agent.jobs.JobClassPath;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A JVM started by a test: its output goes to a file, it is always destroyed on close, and every
 * wait is bounded.
 */
final class ChildJvm implements AutoCloseable {

    static final String JAVA =
            Path.of(System.getProperty("java.home"), "bin", "java").toString();
    static final List<String> DJL_FLAGS = List.of(
            "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1");
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    final Process process;
    final Path output;

    private ChildJvm(Process process, Path output) {
        this.process = process;
        this.output = output;
    }

    static ChildJvm start(List<String> command) throws IOException {
        return start(command, Map.of());
    }

    /** As {@link #start(List)}, with further environment variables for the child. */
    static ChildJvm start(List<String> command, Map<String, String> environment) throws IOException {
        Path out = Files.createTempFile("gradguard-child", ".log");
        ProcessBuilder pb =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("DJL_OFFLINE", "true");
        // an exploding child's incident files go under target/, not into the module's directory
        pb.environment().put("GRADGUARD_INCIDENTS_DIR", "target/gradguard-incidents");
        pb.environment().putAll(environment);
        return new ChildJvm(pb.start(), out);
    }

    static List<String> java(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(JAVA);
        cmd.addAll(DJL_FLAGS);
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    static String agentJar() {
        return requireFile(System.getProperty("gradguard.agent.jar", "target/gradguard-agent.jar"));
    }

    static String examplesJar() {
        return requireFile(System.getProperty("gradguard.examples.jar", "../examples/target/gradguard-examples.jar"));
    }

    /**
     * A DJL job's class path for the tiny jobs: the test class path (Surefire's real one, not its
     * manifest-only booter jar) without the agent's own classes and libraries.
     */
    static String testClassPath() {
        return JobClassPath.withoutAgent(
                System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            throw new AssertionError("child JVM still running after " + seconds + " s; output:\n" + output());
        }
        return process.exitValue();
    }

    String output() {
        try {
            return Files.readString(output);
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /** Polls until the output matches, or fails with the output. */
    void awaitOutput(String contains, long seconds) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < end) {
            if (output().contains(contains)) {
                return;
            }
            if (!process.isAlive() && !output().contains(contains)) {
                throw new AssertionError("child JVM ended without printing '" + contains + "':\n" + output());
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no '" + contains + "' after " + seconds + " s:\n" + output());
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(5))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException(url + " answered " + r.statusCode());
        }
        return r.body();
    }

    /**
     * Asks until the answer satisfies the condition or the time is up.
     *
     * @return the last answer, for the caller to judge
     */
    static <T> T askUntil(java.util.concurrent.Callable<T> ask, Predicate<T> done, long seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        T last = ask.call();
        while (!done.test(last) && System.nanoTime() < end) {
            Thread.sleep(50);
            last = ask.call();
        }
        return last;
    }

    /** Scrapes until the parsed samples satisfy the condition; returns them. */
    static Map<String, Double> scrapeUntil(int port, Predicate<Map<String, Double>> done, long seconds)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        Map<String, Double> last = Map.of();
        String error = "";
        while (System.nanoTime() < end) {
            try {
                last = parse(get("http://127.0.0.1:" + port + "/metrics"));
                if (done.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                error = e.toString();
            }
            Thread.sleep(200);
        }
        throw new AssertionError(
                "condition not met after " + seconds + " s; last error " + error + "; samples " + last.keySet());
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*\\})?) (\\S+)$");

    /** Prometheus text format to "name{labels}" -> value (labels as the exporter printed them). */
    static Map<String, Double> parse(String text) {
        Map<String, Double> out = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line.trim());
            if (m.matches()) {
                out.put(
                        m.group(1),
                        Double.parseDouble(
                                m.group(2).replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
            }
        }
        return out;
    }

    /** The first sample whose series name is {@code name} and whose labels contain every fragment. */
    static double value(Map<String, Double> samples, String name, String... labelFragments) {
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            String k = e.getKey();
            if (!(k.equals(name) || k.startsWith(name + "{"))) {
                continue;
            }
            boolean all = true;
            for (String f : labelFragments) {
                all &= k.contains(f);
            }
            if (all) {
                return e.getValue();
            }
        }
        return Double.NaN;
    }

    static String requireFile(String path) {
        File f = new File(path);
        if (!f.isFile()) {
            throw new AssertionError(
                    path + " does not exist: run `mvn verify` from the repository root so it is built first");
        }
        return f.getAbsolutePath();
    }
}
