package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scrape endpoint is read-only, local by default, optionally behind basic auth and TLS, and
 * never the reason a job fails or hangs. Every check runs a real job JVM with the agent.
 */
class EndpointSecurityIT {

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(3))
            .build();
    private static final String JOB = "io.gradguard.agent.jobs.TinyTrainingJob";
    private static final Pattern METRICS_AT = Pattern.compile("metrics at (https?)://([^:/\\s]+):(\\d+)/metrics");

    @Test
    void bindsLoopbackByDefaultAndTheJobExitsByItselfWithTheEndpointUp() throws Exception {
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0", 150)) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 5, 60);
            assertTrue(job.output().contains("metrics at http://127.0.0.1:" + port + "/metrics"), job.output());
            assertFalse(job.output().contains("ALL interfaces"), job.output());
            Optional<InetAddress> external = nonLoopbackAddress();
            if (external.isPresent()) {
                // The endpoint is up (scraped above) yet refuses connections on the machine's own LAN address.
                try (Socket s = new Socket()) {
                    assertThrows(
                            ConnectException.class,
                            () -> s.connect(new InetSocketAddress(external.get(), port), 2000),
                            "reachable on " + external.get());
                }
                System.out.println("[EndpointSecurityIT] loopback only: connection to "
                        + external.get().getHostAddress() + ":" + port + " refused");
            } else {
                System.out.println(
                        "[EndpointSecurityIT] no non-loopback address on this machine: only the start-up line checked");
            }
            // No System.exit anywhere: the job's JVM ends because every endpoint thread is a daemon.
            assertEquals(0, job.waitFor(60), job.output());
            assertTrue(job.output().contains("weights_sha256="), job.output());
        }
    }

    @Test
    void allInterfacesIsSaidLoudly() throws Exception {
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("host=0.0.0.0,port=" + port + ",summary=0", 60)) {
            assertEquals(0, job.waitFor(60), job.output());
            assertTrue(
                    job.output().contains("listening on ALL interfaces (host=0.0.0.0, port " + port + ")"),
                    job.output());
            assertTrue(job.output().contains("without a password, over plain HTTP"), job.output());
        }
    }

    @Test
    void answersOnlyGetAndHeadAndNeverTakesABodyOrAnOversizeHead() throws Exception {
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0", 400)) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 1, 60);
            String metrics = "http://127.0.0.1:" + port + "/metrics";
            for (String method : List.of("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE")) {
                HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(metrics))
                        .method(method, HttpRequest.BodyPublishers.noBody()));
                assertEquals(405, r.statusCode(), method);
                assertEquals("GET, HEAD", r.headers().firstValue("Allow").orElse(""), method);
            }
            HttpResponse<String> head = send(
                    HttpRequest.newBuilder(URI.create(metrics)).method("HEAD", HttpRequest.BodyPublishers.noBody()));
            assertEquals(200, head.statusCode());
            assertEquals("", head.body());
            assertEquals(
                    200,
                    send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/healthy")))
                            .statusCode());
            assertEquals(
                    404,
                    send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin")))
                            .statusCode());
            // Exact paths: a context's name as a prefix is not its path.
            for (String path : List.of("/metricsX", "/metrics/", "/metrics/x", "/-/healthyz", "/index.html")) {
                assertEquals(
                        404,
                        send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)))
                                .statusCode(),
                        path);
            }

            // 10 KiB of headers: over the 8 KiB cap.
            HttpResponse<String> big =
                    send(HttpRequest.newBuilder(URI.create(metrics)).header("X-Padding", "a".repeat(10 * 1024)));
            assertEquals(400, big.statusCode());
            // A GET with a body.
            HttpResponse<String> body = send(HttpRequest.newBuilder(URI.create(metrics))
                    .method("GET", HttpRequest.BodyPublishers.ofString("x=1")));
            assertEquals(413, body.statusCode());

            // A 100 MB body announced and never sent: refused at once from the head alone.
            long t0 = System.nanoTime();
            assertEquals(
                    "HTTP/1.1 413",
                    rawStatus(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
            assertEquals(
                    "HTTP/1.1 413",
                    rawStatus(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
            assertEquals(
                    "HTTP/1.1 405",
                    rawStatus(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
            long refusedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(refusedMs < 5000, "refusals took " + refusedMs + " ms");

            // And none of it changed the job: it still trains and ends as usual.
            assertEquals(200, send(HttpRequest.newBuilder(URI.create(metrics))).statusCode());
            assertEquals(0, job.waitFor(120), job.output());
            assertTrue(job.output().contains("weights_sha256="), job.output());
            assertFalse(job.output().contains("contained a failure"), job.output());
            System.out.println(
                    "[EndpointSecurityIT] 6 methods -> 405 with Allow; HEAD 200 empty; 10 KiB head -> 400; bodies -> 413; refusals in "
                            + refusedMs + " ms");
        }
    }

    @Test
    void basicAuthRefusesMissingAndWrongCredentials(@TempDir Path dir) throws Exception {
        Path auth = dir.resolve("auth");
        Files.writeString(auth, "prometheus:s3cret: with colon\n");
        Files.setPosixFilePermissions(auth, PosixFilePermissions.fromString("rw-------"));
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0,auth_file=" + auth, 1500)) {
            job.awaitOutput("metrics at http://127.0.0.1:" + port, 60);
            String metrics = "http://127.0.0.1:" + port + "/metrics";
            HttpResponse<String> none = send(HttpRequest.newBuilder(URI.create(metrics)));
            assertEquals(401, none.statusCode());
            assertTrue(
                    none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic realm=\"gradguard\""),
                    none.headers().toString());
            assertEquals(401, send(basic(metrics, "prometheus:s3cret")).statusCode());
            assertEquals(
                    401, send(basic(metrics, "prometheus:s3cret: with colon ")).statusCode());
            assertEquals(
                    401,
                    send(HttpRequest.newBuilder(URI.create(metrics)).header("Authorization", "Basic !!notbase64"))
                            .statusCode());
            assertEquals(
                    401,
                    send(basic("http://127.0.0.1:" + port + "/-/healthy", "nobody:x"))
                            .statusCode());
            HttpResponse<String> right = untilSteps(() -> send(basic(metrics, "prometheus:s3cret: with colon")));
            assertEquals(200, right.statusCode());
            assertTrue(right.body().contains("gradguard_steps_total"), right.body());
            assertFalse(job.output().contains("s3cret"), job.output());
            assertFalse(job.output().contains("WARNING: auth_file"), job.output()); // 0600: no warning
            System.out.println("[EndpointSecurityIT] auth: none 401, wrong 401 (x4), right 200");
        }
    }

    @Test
    void tlsServesHttpsAndRefusesPlainHttp(@TempDir Path dir) throws Exception {
        String password = "changeit-" + System.nanoTime();
        Path keystore = TestKeystore.generate(dir, password);

        int port = ChildJvm.freePort();
        List<String> cmd = new ArrayList<>(List.of("env", "GG_TEST_KEYSTORE_PW=" + password));
        cmd.addAll(tinyJobCommand(
                "port=" + port + ",summary=0,tls_keystore=" + keystore + ",tls_password_env=GG_TEST_KEYSTORE_PW",
                1500));
        try (ChildJvm job = ChildJvm.start(cmd)) {
            job.awaitOutput("metrics at https://127.0.0.1:" + port + "/metrics", 60);
            HttpClient https = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(3))
                    .sslContext(TestKeystore.trusting(keystore, password))
                    .build();
            HttpResponse<String> r = untilSteps(() -> https.send(
                    HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/metrics"))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString()));
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("gradguard_steps_total"), r.body());
            assertEquals(
                    405,
                    https.send(
                                    HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/metrics"))
                                            .timeout(Duration.ofSeconds(10))
                                            .DELETE()
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString())
                            .statusCode());
            String plain;
            try {
                plain = "answered "
                        + send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")))
                                .statusCode();
            } catch (IOException e) {
                plain = "failed: " + e;
            }
            assertTrue(plain.startsWith("failed"), "plain http " + plain);
            assertFalse(job.output().contains(password), job.output());
            System.out.println("[EndpointSecurityIT] tls: https 200, https DELETE 405, plain http " + plain);
        }
    }

    @Test
    void portInUseCostsOnlyTheEndpoint() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            try (ChildJvm job = tinyJob("port=" + port + ",summary=0", 60)) {
                assertEquals(0, job.waitFor(90), job.output());
                String out = job.output();
                assertTrue(
                        out.contains("[gradguard] port " + port + " on 127.0.0.1 is in use: no metrics endpoint"), out);
                // The holder accepts connections but is not gradguard: scrapers of the port read it, said loudly.
                assertTrue(
                        out.contains("[gradguard] !! Port " + port + " on 127.0.0.1 is held by a program that is NOT"
                                + " gradguard: it did not answer an HTTP request"),
                        out);
                assertTrue(
                        out.contains("[gradguard] !! Scrapers of 127.0.0.1:" + port + " read THAT program's data, not"
                                + " this job's."),
                        out);
                assertTrue(out.contains("weights_sha256="), out);
            }
        }
    }

    @Test
    void autoPortSkipsATakenPort() throws Exception {
        // 9404 is taken either by this socket or by someone else: both prove the skip.
        ServerSocket held = null;
        try {
            try {
                held = new ServerSocket(9404, 50, InetAddress.getLoopbackAddress());
            } catch (IOException alreadyTaken) {
                System.out.println("[EndpointSecurityIT] 9404 already taken by another process");
            }
            try (ChildJvm job = tinyJob("port=auto,summary=0", 1500)) {
                job.awaitOutput("metrics at http://", 60);
                Matcher m = METRICS_AT.matcher(job.output());
                assertTrue(m.find(), job.output());
                int port = Integer.parseInt(m.group(3));
                assertTrue(port > 9404 && port <= 9454, "auto port " + port);
                if (held != null) {
                    // Scrapers of 9404 now read the socket held here: said loudly, with where the job went.
                    job.awaitOutput(
                            "!! This job's endpoint is at http://127.0.0.1:" + port + "/metrics instead; scrapers"
                                    + " still pointed at port 9404 read the other program.",
                            10);
                    assertTrue(
                            job.output()
                                    .contains("!! Port 9404 on 127.0.0.1 is held by a program that is NOT gradguard"),
                            job.output());
                } else {
                    assertTrue(
                            job.output().contains("Port 9404 on 127.0.0.1 is held by")
                                    || job.output()
                                            .contains("port 9404 on 127.0.0.1 is held by another gradguard endpoint"),
                            job.output());
                }
                ChildJvm.scrapeUntil(port, s -> ChildJvm.value(s, "gradguard_steps_total") >= 1, 60);
                System.out.println("[EndpointSecurityIT] port=auto with 9404 taken -> " + port);
            }
        } finally {
            if (held != null) {
                held.close();
            }
        }
    }

    @Test
    void stalledClientsHoldTheEndpointForAtMostTheDeadline() throws Exception {
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0", 1500)) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 1, 60);
            List<Socket> held = new ArrayList<>();
            try {
                // One stall of each kind pins both workers: half a head, and a refused body never sent
                // (the JDK drains up to 64 KiB of an unread body before it closes an exchange).
                held.add(rawOpen(port, "GET /metrics HTTP/1.1\r\nHost: x\r\n"));
                held.add(rawOpen(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
                long t0 = System.nanoTime();
                HttpResponse<String> healthy = HTTP.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/-/healthy"))
                                .timeout(Duration.ofSeconds(30))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(200, healthy.statusCode());
                assertTrue(waitedMs < 15_000, "healthy answered after " + waitedMs + " ms");
                System.out.println("[EndpointSecurityIT] 2 stalled connections held open: /-/healthy answered after "
                        + waitedMs + " ms");
                assertTrue(job.process.isAlive(), job.output());
            } finally {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }

    @Test
    void onlyHostHeadersThatNameTheEndpointAreAnswered() throws Exception {
        int port = ChildJvm.freePort();
        int open = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0", 1500);
                ChildJvm any = tinyJob("port=" + open + ",summary=0,host_check=false", 1500)) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 1, 60);
            ChildJvm.scrapeUntil(open, m -> ChildJvm.value(m, "gradguard_steps_total") >= 1, 60);
            // What a DNS-rebinding page sends: its own name, on the endpoint's port.
            assertEquals("HTTP/1.1 403", statusWithHost(port, "rebind.attacker.example:" + port));
            assertEquals("HTTP/1.1 403", statusWithHost(port, "rebind.attacker.example"));
            assertEquals("HTTP/1.1 403", statusWithHost(port, "127.0.0.1:" + (port + 1)), "another port");
            assertEquals("HTTP/1.1 403", statusWithHost(port, "localhost.attacker.example:" + port));
            for (String host : List.of(
                    "127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:" + port, "127.0.0.1", "[::1]:" + port)) {
                assertEquals("HTTP/1.1 200", statusWithHost(port, host), host);
            }
            assertEquals("HTTP/1.1 200", statusWithHost(open, "rebind.attacker.example:" + open), "host_check=false");
            job.awaitOutput("refused a request whose Host header (rebind.attacker.example:" + port + ")", 10);
            System.out.println(
                    "[EndpointSecurityIT] Host check: foreign names and ports 403, loopback names 200; host_check=false 200");
        }
    }

    @Test
    void gzipWhenAskedAndNameFilteringAsClientJavaDoes() throws Exception {
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("port=" + port + ",summary=0", 1500)) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 1, 60);
            java.net.HttpURLConnection c = (java.net.HttpURLConnection)
                    URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openConnection();
            c.setRequestProperty("Accept-Encoding", "gzip");
            assertEquals(200, c.getResponseCode());
            assertEquals("gzip", c.getHeaderField("Content-Encoding"));
            String unzipped;
            try (InputStream in = new java.util.zip.GZIPInputStream(c.getInputStream())) {
                unzipped = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            assertTrue(unzipped.contains("gradguard_steps_total{"), unzipped);
            for (String name : List.of("gradguard_steps", "gradguard_steps_total")) {
                String filtered = ChildJvm.get("http://127.0.0.1:" + port + "/metrics?name%5B%5D=" + name);
                List<String> samples = filtered.lines()
                        .filter(l -> !l.startsWith("#") && !l.isBlank())
                        .toList();
                assertFalse(samples.isEmpty(), name);
                assertTrue(
                        samples.stream().allMatch(l -> l.startsWith("gradguard_steps_total{")), name + ": " + samples);
            }
            String two =
                    ChildJvm.get("http://127.0.0.1:" + port + "/metrics?name[]=gradguard_steps&name[]=gradguard_loss");
            assertTrue(
                    two.contains("gradguard_loss{")
                            && two.contains("gradguard_steps_total{")
                            && !two.contains("gradguard_grad_norm"),
                    two);
            System.out.println("[EndpointSecurityIT] gzip " + unzipped.length()
                    + " bytes unzipped; name[] keeps only the named families");
        }
    }

    @Test
    void aSpecificNonLoopbackAddressIsWarnedAbout() throws Exception {
        Optional<InetAddress> external = nonLoopbackAddress();
        org.junit.jupiter.api.Assumptions.assumeTrue(external.isPresent(), "no non-loopback address on this machine");
        String address = external.get().getHostAddress();
        int port = ChildJvm.freePort();
        try (ChildJvm job = tinyJob("host=" + address + ",port=" + port + ",summary=0", 60)) {
            assertEquals(0, job.waitFor(60), job.output());
            assertTrue(
                    job.output()
                            .contains("[gradguard] WARNING: metrics endpoint listening on " + address + " (host="
                                    + address + ", port " + port
                                    + "), which other machines may reach: anyone who can reach this machine can"
                                    + " read it, without a password, over plain HTTP"),
                    job.output());
        }
    }

    @Test
    void anIpv6LoopbackHostIsPrintedWithOnePairOfBrackets() throws Exception {
        for (String host : List.of("::1", "[::1]")) {
            int port = ChildJvm.freePort();
            try (ChildJvm job = tinyJob("host=" + host + ",port=" + port + ",summary=0", 1500)) {
                job.awaitOutput("metrics at http://[::1]:" + port + "/metrics", 60);
                assertFalse(job.output().contains("[[::1]]"), job.output());
                HttpResponse<String> r =
                        untilSteps(() -> send(HttpRequest.newBuilder(URI.create("http://[::1]:" + port + "/metrics"))));
                assertEquals(200, r.statusCode());
                assertTrue(r.body().contains("gradguard_steps_total"), r.body());
            }
        }
    }

    @Test
    void aKeystoreWithOnlyACertificateIsRefusedAtStart(@TempDir Path dir) throws Exception {
        String password = "changeit-" + System.nanoTime();
        Path full = TestKeystore.generate(dir, password);
        Path cert = dir.resolve("endpoint.crt");
        Path certOnly = dir.resolve("cert-only.p12");
        TestKeystore.keytool(
                "-exportcert",
                "-alias",
                "gradguard",
                "-keystore",
                full.toString(),
                "-storepass",
                password,
                "-file",
                cert.toString());
        TestKeystore.keytool(
                "-importcert",
                "-noprompt",
                "-alias",
                "gradguard",
                "-file",
                cert.toString(),
                "-storetype",
                "PKCS12",
                "-keystore",
                certOnly.toString(),
                "-storepass",
                password);
        int port = ChildJvm.freePort();
        List<String> cmd = new ArrayList<>(List.of("env", "GG_TEST_KEYSTORE_PW=" + password));
        cmd.addAll(tinyJobCommand(
                "port=" + port + ",summary=0,tls_keystore=" + certOnly + ",tls_password_env=GG_TEST_KEYSTORE_PW", 60));
        try (ChildJvm job = ChildJvm.start(cmd)) {
            assertEquals(0, job.waitFor(60), job.output());
            assertTrue(
                    job.output()
                            .contains("[gradguard] no metrics endpoint: tls_keystore " + certOnly
                                    + " holds no private key" + " (only certificates)"),
                    job.output());
            assertFalse(job.output().contains("metrics at https://"), job.output());
        }
    }

    /** A GET of /metrics with this Host header (Java's HTTP clients will not send a chosen one). */
    private static String statusWithHost(int port, String host) throws IOException {
        return rawStatus(port, "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    }

    private static ChildJvm tinyJob(String agentArgs, int steps) throws IOException {
        return ChildJvm.start(tinyJobCommand(agentArgs, steps));
    }

    private static List<String> tinyJobCommand(String agentArgs, int steps) {
        return ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                "-Dtiny.sleepMs=20",
                "-cp",
                ChildJvm.testClassPath(),
                JOB,
                String.valueOf(steps),
                "0.05");
    }

    /**
     * Asks until the answer holds the model's series: the endpoint answers from the start line on, before the
     * job's first trainer, whose series come with it.
     */
    private static HttpResponse<String> untilSteps(java.util.concurrent.Callable<HttpResponse<String>> ask)
            throws Exception {
        return ChildJvm.askUntil(ask, r -> r.statusCode() != 200 || r.body().contains("gradguard_steps_total"), 60);
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws IOException, InterruptedException {
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

    /** Writes a raw request head and returns the first 12 characters of the status line. */
    private static String rawStatus(int port, String head) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 3000);
            s.setSoTimeout(5000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            byte[] status = in.readNBytes(12);
            return new String(status, StandardCharsets.US_ASCII);
        }
    }

    private static Socket rawOpen(int port, String partial) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 3000);
        s.getOutputStream().write(partial.getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        return s;
    }

    private static Optional<InetAddress> nonLoopbackAddress() throws IOException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(nic.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }
}
