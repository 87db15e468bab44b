package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code pushgateway=HOST:PORT} against a real Prometheus Pushgateway (Debian's
 * {@code prometheus-pushgateway}, started here on a free port without persistence): the values of
 * a job's last step are on the Pushgateway after the job has exited.
 */
class PushgatewayIT {

    private static final String BINARY = System.getProperty("gradguard.pushgateway.bin", "/usr/bin/prometheus-pushgateway");

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
        gateway =
                new ProcessBuilder(BINARY, "--web.listen-address=127.0.0.1:" + gatewayPort, "--persistence.file=")
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
        try (ChildJvm job =
                ChildJvm.start(
                        ChildJvm.java(
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
            long failures = out.lines().filter(l -> l.startsWith("[gradguard] push to Pushgateway 127.0.0.1:" + closedPort + " failed")).count();
            assertEquals(1, failures, out);
            assertTrue(out.contains("ConnectException"), out);
        }
    }

    private void assertLastStepPushed(int steps, String interval, String sleep) throws Exception {
        String run = "push-it-" + System.nanoTime();
        // The run goes in as a property: run= in the agent args is refused today (GradGuardAgent
        // appends the resolved run to the args, so it would be given twice).
        String agentArgs = "port=0,summary=0,pushgateway=127.0.0.1:" + gatewayPort + ",push_interval=" + interval;
        long pid;
        String out;
        try (ChildJvm job =
                ChildJvm.start(
                        ChildJvm.java(
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
        double pushed =
                ChildJvm.value(samples, "gradguard_steps_total", "job=\"gradguard\"", "run=\"" + run + "\"", ":" + pid + "\"");
        assertEquals(steps, pushed, 0.0, "gradguard_steps_total for run " + run + " on the Pushgateway:\n" + grep(text, run) + "\njob output:\n" + out);
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
