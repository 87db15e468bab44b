package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A short job with the agent on every JDK installed under /usr/lib/jvm (here and in CI: 17 and
 * Temurin 25): it trains, is measured, and the JVM prints no warning about the agent.
 */
class JdkMatrixIT {

    @Test
    void theAgentWorksOnEveryInstalledJdk() throws Exception {
        Map<Path, String> jdks = jdks();
        assertTrue(jdks.size() >= 1, "no JDK under /usr/lib/jvm");
        List<String> seen = new ArrayList<>();
        for (Map.Entry<Path, String> jdk : jdks.entrySet()) {
            List<String> command = new ArrayList<>(ChildJvm.java(
                    "-javaagent:" + ChildJvm.agentJar() + "=port=0,summary=0",
                    "-cp",
                    ChildJvm.testClassPath(),
                    "io.gradguard.agent.jobs.TinyTrainingJob",
                    "20",
                    "0.05"));
            command.set(0, jdk.getKey().toString());
            try (ChildJvm job = ChildJvm.start(command)) {
                assertEquals(0, job.waitFor(120), jdk.getValue() + ":\n" + job.output());
                String out = job.output();
                assertTrue(out.contains("tiny: 20 steps"), jdk.getValue() + ":\n" + out);
                assertFalse(out.contains("sun.misc.Unsafe"), jdk.getValue() + " warns about Unsafe:\n" + out);
                assertFalse(out.contains("contained a failure"), jdk.getValue() + ":\n" + out);
                seen.add(jdk.getValue());
            }
        }
        System.out.println("[JdkMatrixIT] agent works on " + seen);
    }

    /** One java binary per distinct JDK (the Debian links point at the same one several times). */
    private static Map<Path, String> jdks() throws IOException {
        Map<Path, String> out = new LinkedHashMap<>();
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib/jvm"))) {
            for (Path dir : dirs.sorted().toList()) {
                Path java = dir.resolve("bin/java");
                if (Files.isExecutable(java)) {
                    out.putIfAbsent(java.toRealPath(), dir.getFileName().toString());
                }
            }
        }
        return out;
    }
}
