package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing outside the training thread may stop, slow or disarm it: a step-log reader that stops
 * reading, a FIFO or a device where the config file should be, host name lookups that hang, a
 * flood of connections at a descriptor limit. Each runs a real job JVM with the agent.
 */
class OutsideConditionsIT {

    private static final String JOB = "io.gradguard.agent.jobs.TinyTrainingJob";

    @Test
    void aStepLogReaderThatStopsReadingCostsTrainingNothingAndSigtermStillExitsWithTheSummary(@TempDir Path dir)
            throws Exception {
        Path fifo = mkfifo(dir.resolve("steps.fifo"));
        // The reader opens the FIFO and never reads: the pipe fills and the writer blocks in write(2).
        CompletableFuture<InputStream> reader = CompletableFuture.supplyAsync(() -> {
            try {
                return Files.newInputStream(fifo);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        int port = ChildJvm.freePort();
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=" + port + ",summary=0,log=" + fifo,
                "-Dtiny.sleepMs=1",
                "-cp",
                ChildJvm.testClassPath(),
                JOB,
                "1000000",
                "0.01"))) {
            InputStream stalled = reader.get(60, TimeUnit.SECONDS);
            try {
                // Steps go on well past what the pipe and the queue hold; the drops are counted.
                Map<String, Double> s = ChildJvm.scrapeUntil(
                        port, m -> ChildJvm.value(m, "gradguard_agent_errors_total", "where=\"step_log\"") >= 1, 180);
                double steps = ChildJvm.value(s, "gradguard_steps_total");
                Thread.sleep(2000);
                double later = ChildJvm.value(
                        ChildJvm.parse(ChildJvm.get("http://127.0.0.1:" + port + "/metrics")), "gradguard_steps_total");
                assertTrue(later > steps, "steps stopped at " + steps + " with the log reader stalled");
                assertTrue(job.output().contains("the writer is 4096 records behind"), job.output());
                job.process.destroy(); // SIGTERM
                long t0 = System.nanoTime();
                int exit = job.waitFor(60);
                long exitMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertEquals(143, exit, job.output());
                assertTrue(job.output().contains("[gradguard] tiny: "), "the exit summary:\n" + job.output());
                System.out.printf(
                        Locale.ROOT,
                        "[OutsideConditionsIT] stalled step-log reader: %.0f steps, then %.0f; SIGTERM"
                                + " exited in %d ms with the summary%n",
                        steps,
                        later,
                        exitMs);
            } finally {
                stalled.close();
            }
        }
    }

    @Test
    void aFifoRenamedOverTheConfigFileIsRefusedTrainingGoesOnAndAFixIsApplied(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gradguard.yml");
        Files.writeString(file, "policy:\n  type: none\n");
        int port = ChildJvm.freePort();
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=port=" + port + ",summary=0,config=" + file,
                "-Dtiny.sleepMs=5",
                "-cp",
                ChildJvm.testClassPath(),
                JOB,
                "1000000",
                "0.01"))) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") > 20, 120);
            Files.move(
                    mkfifo(dir.resolve("fifo")),
                    file,
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            job.awaitOutput(
                    "[gradguard] config reload rejected: config=" + file + " is a FIFO, socket or device, not a"
                            + " regular file; point config at a YAML file; keeping the previous policy",
                    30);
            double before = steps(port);
            Thread.sleep(1500);
            double after = steps(port);
            assertTrue(after > before, "training stopped at step " + before + " with a FIFO as the config file");
            Path fixed = dir.resolve("fixed.yml");
            Files.writeString(fixed, "policy:\n  type: global-norm\n  max_norm: 0.5\n");
            Files.move(fixed, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Map<String, Double> s = ChildJvm.scrapeUntil(
                    port, m -> ChildJvm.value(m, "gradguard_policy_info", "policy=\"global-norm\"") == 1.0, 30);
            assertEquals(1.0, ChildJvm.value(s, "gradguard_config_reloads_total", "result=\"rejected\""));
            assertEquals(1.0, ChildJvm.value(s, "gradguard_config_reloads_total", "result=\"ok\""));
            System.out.printf(
                    Locale.ROOT,
                    "[OutsideConditionsIT] FIFO over the config file: refused once, steps %.0f -> %.0f,"
                            + " then the fixed file applied%n",
                    before,
                    after);
        }
    }

    @Test
    void aDeviceOrAFifoAsTheConfigFileAtStartIsRefusedAndTheJobRuns(@TempDir Path dir) throws Exception {
        Path fifo = mkfifo(dir.resolve("config.fifo"));
        for (String config : List.of("/dev/zero", fifo.toString())) {
            try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                    "-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0,config=" + config,
                    "-cp",
                    ChildJvm.testClassPath(),
                    JOB,
                    "30",
                    "0.05"))) {
                assertEquals(0, job.waitFor(120), job.output());
                String out = job.output();
                assertTrue(out.contains("config=" + config + " is a FIFO, socket or device, not a regular file"), out);
                assertTrue(out.contains("gradguard is NOT PROTECTING this job"), out);
                assertTrue(out.contains("tiny: 30 steps"), "the job ran, monitored:\n" + out);
            }
        }
    }

    /**
     * Host name lookups that take 8 s (a JDK resolver provider, compiled here for a JDK that has
     * the interface, delays the endpoint's host and this machine's name) happen off the training
     * thread: the job trains to its end before the endpoint could even bind.
     */
    @Test
    void slowHostNameLookupsNeverRunOnTheTrainingThread(@TempDir Path dir) throws Exception {
        Path java = jdkWithResolverSpi();
        Path classes = compileSlowResolver(java.getParent(), dir);
        String machine = InetAddress.getLocalHost().getHostName();
        // The endpoint's host, then the push's instance label (this machine's name, HOSTNAME unset).
        for (String agentArgs : List.of(
                "host=endpoint.slow-lookup.test,port=" + ChildJvm.freePort(),
                "port=0,pushgateway=127.0.0.1:" + ChildJvm.freePort())) {
            List<String> cmd = new ArrayList<>(List.of("env", "-u", "HOSTNAME"));
            cmd.addAll(ChildJvm.java(
                    "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs + ",summary=0",
                    "-Dslow.lookup.names=endpoint.slow-lookup.test," + machine,
                    "-Dslow.lookup.ms=8000",
                    "-cp",
                    ChildJvm.testClassPath() + File.pathSeparator + classes,
                    JOB,
                    "60",
                    "0.05"));
            cmd.set(3, java.toString());
            try (ChildJvm job = ChildJvm.start(cmd)) {
                assertEquals(0, job.waitFor(120), job.output());
                String out = job.output();
                int trained = out.indexOf("weights_sha256=");
                assertTrue(trained >= 0, out);
                Matcher lookups =
                        Pattern.compile("slow-lookup: (\\S+) on thread (.+)").matcher(out);
                int n = 0;
                while (lookups.find()) {
                    n++;
                    assertTrue(
                            !lookups.group(2).trim().equals("main"),
                            "a lookup on the training thread: " + lookups.group());
                }
                assertTrue(n >= 1, "no lookup went through the slow resolver:\n" + out);
                int up = Math.max(out.indexOf("metrics at http://"), out.indexOf("[gradguard] pushing to"));
                assertTrue(up < 0 || up > trained, "the job waited for the lookup:\n" + out);
                assertTrue(out.contains("metrics endpoint and pushes still starting"), out);
                System.out.println("[OutsideConditionsIT] " + agentArgs + ": " + n
                        + " lookups of 8 s, none on the training" + " thread; the job trained to its end first");
            }
        }
    }

    /**
     * At the default limit of 1024 descriptors, 1500 connections opened at once cost the job no
     * descriptor it needs: the endpoint holds at most its cap, the job writes its result file, and
     * the endpoint does not spin (the job's CPU while flooded stays a fraction of the wall time).
     */
    @Test
    void aConnectionFloodAtTheDescriptorLimitLeavesTheJobItsDescriptors(@TempDir Path dir) throws Exception {
        int port = ChildJvm.freePort();
        Path result = dir.resolve("result.txt");
        String java = String.join(
                " ",
                ChildJvm.java(
                        "-javaagent:" + ChildJvm.agentJar() + "=port=" + port + ",summary=0",
                        "-Dtiny.sleepMs=20",
                        "-Dtiny.resultFile=" + result,
                        "-cp",
                        ChildJvm.testClassPath(),
                        JOB,
                        "900",
                        "0.05"));
        try (ChildJvm job = ChildJvm.start(List.of("bash", "-c", "ulimit -n 1024 && exec " + java))) {
            ChildJvm.scrapeUntil(port, m -> ChildJvm.value(m, "gradguard_steps_total") >= 1, 60);
            long pid = job.process.pid();
            long baseline = openDescriptors(pid);
            long cpu0 = cpuMillis(job);
            long t0 = System.nanoTime();
            List<Socket> held = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger refused = new AtomicInteger();
            ExecutorService pool = Executors.newFixedThreadPool(32);
            long maxOpen = baseline;
            try {
                for (int i = 0; i < 1500; i++) {
                    pool.submit(() -> {
                        Socket s = new Socket();
                        try {
                            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
                            held.add(s);
                        } catch (IOException e) {
                            refused.incrementAndGet();
                            closeQuietly(s);
                        }
                    });
                }
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(8);
                while (System.nanoTime() < end) {
                    maxOpen = Math.max(maxOpen, openDescriptors(pid));
                    Thread.sleep(50);
                }
            } finally {
                pool.shutdownNow();
                pool.awaitTermination(10, TimeUnit.SECONDS);
                held.forEach(OutsideConditionsIT::closeQuietly);
            }
            long floodMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long floodCpu = cpuMillis(job) - cpu0;
            assertEquals(0, job.waitFor(120), job.output());
            Matcher cap =
                    Pattern.compile("at most (\\d+) connections at a time").matcher(job.output());
            int connections = cap.find() ? Integer.parseInt(cap.group(1)) : 64;
            System.out.printf(
                    Locale.ROOT,
                    "[OutsideConditionsIT] 1500 connections at ulimit -n 1024: %d connected, %d not;"
                            + " job descriptors %d before, at most %d during (cap %d); job cpu %d ms in %d ms%n",
                    held.size(),
                    refused.get(),
                    baseline,
                    maxOpen,
                    connections,
                    floodCpu,
                    floodMs);
            assertTrue(Files.readString(result).startsWith("weights_sha256="), "the job's own result file");
            assertTrue(maxOpen <= baseline + connections + 16, "the job held " + maxOpen + " descriptors");
            assertTrue(floodCpu < floodMs / 2, "the job used " + floodCpu + " ms of cpu in " + floodMs + " ms");
            assertTrue(!job.output().contains("Too many open files"), job.output());
        }
    }

    private static double steps(int port) throws Exception {
        return ChildJvm.value(
                ChildJvm.parse(ChildJvm.get("http://127.0.0.1:" + port + "/metrics")), "gradguard_steps_total");
    }

    private static Path mkfifo(Path path) throws Exception {
        Process p = new ProcessBuilder("mkfifo", path.toString()).inheritIO().start();
        assertEquals(0, p.waitFor());
        return path;
    }

    private static long openDescriptors(long pid) throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            return fds.count();
        }
    }

    private static long cpuMillis(ChildJvm job) {
        return job.process.info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // the endpoint may have closed it first
        }
    }

    /** A JDK (18 or later) with java.net.spi.InetAddressResolverProvider, from /usr/lib/jvm. */
    private static Path jdkWithResolverSpi() throws IOException {
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib/jvm"))) {
            for (Path dir : dirs.sorted().toList()) {
                Path release = dir.resolve("release");
                if (Files.isExecutable(dir.resolve("bin/javac")) && Files.isReadable(release)) {
                    Matcher v = Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(release));
                    if (v.find() && Integer.parseInt(v.group(1)) >= 18) {
                        return dir.resolve("bin/java");
                    }
                }
            }
        }
        throw new AssertionError("no JDK 18+ under /usr/lib/jvm for a resolver provider (the CI image has Temurin 25)");
    }

    private static Path compileSlowResolver(Path bin, Path dir) throws Exception {
        Path src = dir.resolve("src/slowlookup/SlowResolverProvider.java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, """
                package slowlookup;

                import java.net.InetAddress;
                import java.net.UnknownHostException;
                import java.net.spi.InetAddressResolver;
                import java.net.spi.InetAddressResolverProvider;
                import java.util.Set;
                import java.util.stream.Stream;

                /** Lookups of the names in slow.lookup.names take slow.lookup.ms and give 127.0.0.1. */
                public final class SlowResolverProvider extends InetAddressResolverProvider {
                    @Override
                    public InetAddressResolver get(Configuration configuration) {
                        InetAddressResolver builtin = configuration.builtinResolver();
                        Set<String> slow = Set.of(System.getProperty("slow.lookup.names", "").split(","));
                        long ms = Long.getLong("slow.lookup.ms", 8000);
                        return new InetAddressResolver() {
                            @Override
                            public Stream<InetAddress> lookupByName(String host, LookupPolicy policy) throws UnknownHostException {
                                if (!slow.contains(host)) {
                                    return builtin.lookupByName(host, policy);
                                }
                                System.err.println("slow-lookup: " + host + " on thread " + Thread.currentThread().getName());
                                try {
                                    Thread.sleep(ms);
                                } catch (InterruptedException e) {
                                    Thread.currentThread().interrupt();
                                }
                                return Stream.of(InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1}));
                            }

                            @Override
                            public String lookupByAddress(byte[] address) throws UnknownHostException {
                                return builtin.lookupByAddress(address);
                            }
                        };
                    }

                    @Override
                    public String name() {
                        return "slow-lookup";
                    }
                }
                """);
        Path classes = dir.resolve("classes");
        Process javac = new ProcessBuilder(bin.resolve("javac").toString(), "-d", classes.toString(), src.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(javac.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(javac.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, javac.exitValue(), out);
        Path services = classes.resolve("META-INF/services/java.net.spi.InetAddressResolverProvider");
        Files.createDirectories(services.getParent());
        Files.writeString(services, "slowlookup.SlowResolverProvider\n");
        return classes;
    }
}
