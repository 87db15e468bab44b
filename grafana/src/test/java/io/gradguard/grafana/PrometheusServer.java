package io.gradguard.grafana;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server for tests: its own loopback port, its own TSDB directory, its log in a file (so a
 * full pipe can never block it), and always destroyed by {@link #close()}. Every wait is bounded.
 */
final class PrometheusServer implements AutoCloseable {

    static final String INSTALL_HINT = "sudo apt-get install prometheus";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final URI base;
    private final Path log;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private PrometheusServer(Process process, URI base, Path log) {
        this.process = process;
        this.base = base;
        this.log = log;
    }

    /** Writes {@code configYaml} into {@code workDir}, starts Prometheus on a free loopback port, waits until ready. */
    static PrometheusServer start(Path workDir, String configYaml) throws IOException, InterruptedException {
        Path binary = findBinary("prometheus")
                .orElseThrow(() -> new AssertionError("prometheus not found on PATH: " + INSTALL_HINT));
        Path config = Files.writeString(workDir.resolve("prometheus.yml"), configYaml);
        Path log = workDir.resolve("prometheus.log");
        int port = freePort();
        Process process = new ProcessBuilder(
                        binary.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + workDir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port,
                        "--log.level=warn")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        PrometheusServer server = new PrometheusServer(process, URI.create("http://127.0.0.1:" + port), log);
        try {
            server.awaitReady();
            return server;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    private void awaitReady() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + logTail());
            }
            try {
                HttpResponse<String> response =
                        http.send(request("/-/ready").build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYetListening) {
                // keep polling until the deadline
            }
            Thread.sleep(200);
        }
        throw new AssertionError("prometheus not ready within " + START_TIMEOUT + ":\n" + logTail());
    }

    /** The base URI, e.g. {@code http://127.0.0.1:40123}. */
    URI baseUri() {
        return base;
    }

    /** {@code /api/v1/query}: the whole response; status is "success" or "error" (with "error" set). */
    JsonNode query(String promql) throws IOException, InterruptedException {
        return get("/api/v1/query?query=" + encode(promql));
    }

    /** {@code /api/v1/query_range} from {@code start} to {@code end} (unix seconds) with {@code stepSeconds}. */
    JsonNode queryRange(String promql, double start, double end, double stepSeconds)
            throws IOException, InterruptedException {
        return get("/api/v1/query_range?query=" + encode(promql) + "&start=" + start + "&end=" + end + "&step="
                + stepSeconds);
    }

    /** {@code /api/v1/alerts}: {@code data.alerts} holds pending and firing alerts with labels, state, activeAt. */
    JsonNode alerts() throws IOException, InterruptedException {
        return get("/api/v1/alerts");
    }

    /** {@code /api/v1/targets}: scrape targets and their health. */
    JsonNode targets() throws IOException, InterruptedException {
        return get("/api/v1/targets");
    }

    private JsonNode get(String pathAndQuery) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request(pathAndQuery).build(), HttpResponse.BodyHandlers.ofString());
        // Prometheus answers 400/422 with a JSON body ("status":"error") for bad queries: callers assert on it.
        return JSON.readTree(response.body());
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(base.resolve(pathAndQuery))
                .timeout(Duration.ofSeconds(10))
                .GET();
    }

    /** The last lines Prometheus logged, for failure messages. */
    String logTail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** A port free right now on loopback; Prometheus binds it a moment later (a race we accept in tests). */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code name} on PATH, else in /usr/bin (Debian's package), else empty. */
    static Optional<Path> findBinary(String name) {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : (path + java.io.File.pathSeparator + "/usr/bin").split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }
}
