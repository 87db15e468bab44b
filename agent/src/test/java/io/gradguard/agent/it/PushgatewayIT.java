package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pushgateway=HOST:PORT} against a real Prometheus Pushgateway (Debian's
 * {@code prometheus-pushgateway}, started here on a free port without persistence): by default a job
 * that exits deletes its group, so a finished run does not look stalled; with
 * {@code push_delete_on_exit=false} the values of its last step stay there. A Pushgateway that
 * answers a byte every few seconds costs each push its timeout, said, and pushing goes on.
 */
class PushgatewayIT {

    private static final String BINARY =
            System.getProperty("gradguard.pushgateway.bin", "/usr/bin/prometheus-pushgateway");

    private Process gateway;
    private Path gatewayLog;
    private int gatewayPort;

    @BeforeEach
    void startPushgateway() throws Exception {
        if (!new File(BINARY).canExecute()) {
            fail(BINARY + " not found: sudo apt-get install prometheus-pushgateway");
        }
        gatewayPort = ChildJvm.freePort();
        gatewayLog = Files.createTempFile("gradguard-pushgateway", ".log");
        gateway = new ProcessBuilder(BINARY, "--web.listen-address=127.0.0.1:" + gatewayPort, "--persistence.file=")
                .redirectErrorStream(true)
                .redirectOutput(gatewayLog.toFile())
                .start();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                ChildJvm.get(gatewayUrl("/-/ready"));
                return;
            } catch (IOException e) {
                if (!gateway.isAlive() || System.nanoTime() > end) {
                    fail("Pushgateway did not become ready: " + e + "\n" + Files.readString(gatewayLog));
                }
                Thread.sleep(100);
            }
        }
    }

    @AfterEach
    void stopPushgateway() throws Exception {
        if (gateway != null) {
            gateway.destroy();
            if (!gateway.waitFor(10, TimeUnit.SECONDS)) {
                gateway.destroyForcibly();
            }
        }
    }

    @Test
    void lastStepCountIsOnThePushgatewayAfterTheJobExited() throws Exception {
        // ~2 s of training with a push every second: periodic pushes happen mid-run, and only the
        // push from the shutdown hook can carry the final count.
        assertLastStepPushed(60, "1", "-Dtiny.sleepMs=30");
    }

    @Test
    void theFinalPushAloneDeliversTheLastStep() throws Exception {
        // An interval far longer than the job: no periodic push ever runs, so the series can only
        // come from close() in the agent's shutdown hook.
        assertLastStepPushed(25, "3600", "-Dtiny.sleepMs=0");
    }

    @Test
    void anUnreachablePushgatewaySaysOneLineAndTheJobFinishes() throws Exception {
        int closedPort = ChildJvm.freePort(); // nothing listens there: every push is refused
        String agentArgs = "port=0,summary=0,pushgateway=127.0.0.1:" + closedPort + ",push_interval=1";
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                "-Dtiny.sleepMs=30",
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "80",
                "0.05"))) {
            assertEquals(0, job.waitFor(120), job.output());
            String out = job.output();
            assertTrue(out.contains("weights_sha256="), out);
            // Several periodic pushes and the final one all failed the same way: said once.
            long failures = out.lines()
                    .filter(l -> l.startsWith("[gradguard] push to Pushgateway 127.0.0.1:" + closedPort + " failed"))
                    .count();
            assertEquals(1, failures, out);
            assertTrue(out.contains("ConnectException"), out);
        }
    }

    @Test
    void aJobThatExitsDeletesItsGroupSoItsRunDoesNotLookStalled() throws Exception {
        String run = "push-delete-" + System.nanoTime();
        String agentArgs = "port=0,summary=0,pushgateway=127.0.0.1:" + gatewayPort + ",push_interval=1";
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                "-Dgradguard.run=" + run,
                "-Dtiny.sleepMs=30",
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                "200",
                "0.05"))) {
            // While it runs, its pushes are there.
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            double seen = Double.NaN;
            while (Double.isNaN(seen) && System.nanoTime() < end && job.process.isAlive()) {
                seen = ChildJvm.value(
                        ChildJvm.parse(ChildJvm.get(gatewayUrl("/metrics"))),
                        "gradguard_steps_total",
                        "run=\"" + run + "\"");
                Thread.sleep(200);
            }
            assertTrue(seen >= 0, "no push of run " + run + " while the job ran:\n" + job.output());
            assertEquals(0, job.waitFor(120), job.output());
            assertTrue(
                    job.output()
                            .contains("[gradguard] deleted this process's group from the Pushgateway 127.0.0.1:"
                                    + gatewayPort + " at exit"),
                    job.output());
        }
        String after = ChildJvm.get(gatewayUrl("/metrics"));
        assertEquals("(no series of this run)", grep(after, run), "the exited run's group is gone");
    }

    @Test
    void aPushgatewayAnsweringAByteEveryFiveSecondsCostsEachPushItsTimeoutAndIsSaid() throws Exception {
        java.util.concurrent.atomic.AtomicInteger pushes = new java.util.concurrent.atomic.AtomicInteger();
        try (java.net.ServerSocket slow = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            Thread server = new Thread(() -> {
                while (!slow.isClosed()) {
                    try {
                        java.net.Socket s = slow.accept();
                        pushes.incrementAndGet();
                        Thread t = new Thread(() -> trickle(s));
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            server.setDaemon(true);
            server.start();
            String agentArgs = "port=0,summary=0,pushgateway=127.0.0.1:" + slow.getLocalPort() + ",push_interval=1";
            try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                    "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                    "-Dtiny.sleepMs=30",
                    "-cp",
                    ChildJvm.testClassPath(),
                    "io.gradguard.agent.jobs.TinyTrainingJob",
                    "700",
                    "0.05"))) {
                assertEquals(0, job.waitFor(180), job.output());
                String out = job.output();
                assertTrue(out.contains("weights_sha256="), out);
                assertTrue(
                        out.contains(
                                "failed (java.net.SocketTimeoutException): no complete answer within " + 5 + " s; cut"),
                        out);
                assertTrue(
                        out.contains("[gradguard] WARNING: pushes to Pushgateway 127.0.0.1:" + slow.getLocalPort()
                                + " have failed 3 times in a row"),
                        out);
                // Pushing went on after the first cut push: each interval tried again.
                assertTrue(pushes.get() >= 3, pushes.get() + " pushes reached the slow Pushgateway");
                System.out.println(
                        "[PushgatewayIT] slow Pushgateway: " + pushes.get() + " pushes tried, each cut after 5 s");
            }
        }
    }

    /** Reads the request, then answers one byte of a 200 every 5 s. */
    private static void trickle(java.net.Socket s) {
        try (s) {
            s.getInputStream().read(new byte[8192]);
            for (byte b : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII)) {
                s.getOutputStream().write(b);
                s.getOutputStream().flush();
                Thread.sleep(5000);
            }
        } catch (IOException | InterruptedException e) {
            // cut by the agent
        }
    }

    private void assertLastStepPushed(int steps, String interval, String sleep) throws Exception {
        String run = "push-it-" + System.nanoTime();
        // The run goes in as a property: run= in the agent args is refused today (GradGuardAgent
        // appends the resolved run to the args, so it would be given twice).
        String agentArgs = "port=0,summary=0,pushgateway=127.0.0.1:" + gatewayPort + ",push_interval=" + interval
                + ",push_delete_on_exit=false";
        long pid;
        String out;
        try (ChildJvm job = ChildJvm.start(ChildJvm.java(
                "-javaagent:" + ChildJvm.agentJar() + "=" + agentArgs,
                "-Dgradguard.run=" + run,
                sleep,
                "-cp",
                ChildJvm.testClassPath(),
                "io.gradguard.agent.jobs.TinyTrainingJob",
                String.valueOf(steps),
                "0.05"))) {
            assertEquals(0, job.waitFor(120), job.output());
            pid = job.process.pid();
            out = job.output();
            assertTrue(out.contains("weights_sha256="), out);
            assertTrue(out.contains("[gradguard] watching Trainer.step()"), out);
            assertTrue(!out.contains("push to Pushgateway"), "a push failed:\n" + out);
        }
        // The job has exited: what is on the Pushgateway now is all it will ever get from it.
        String text = ChildJvm.get(gatewayUrl("/metrics"));
        Map<String, Double> samples = ChildJvm.parse(text);
        double pushed = ChildJvm.value(
                samples, "gradguard_steps_total", "job=\"gradguard\"", "run=\"" + run + "\"", ":" + pid + "\"");
        assertEquals(
                steps,
                pushed,
                0.0,
                "gradguard_steps_total for run " + run + " on the Pushgateway:\n" + grep(text, run) + "\njob output:\n"
                        + out);
        assertTrue(ChildJvm.value(samples, "gradguard_grad_global_norm", "run=\"" + run + "\"") > 0, grep(text, run));
    }

    private String gatewayUrl(String path) {
        return "http://127.0.0.1:" + gatewayPort + path;
    }

    private static String grep(String text, String fragment) {
        List<String> lines = text.lines().filter(l -> l.contains(fragment)).toList();
        return lines.isEmpty() ? "(no series of this run)" : String.join("\n", lines);
    }
}
