package io.gradguard.agent.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tested DJL version, each with the PyTorch it ships against (CPU), in its own child JVM
 * with only that DJL on its class path: the agent names the version at start, its per-parameter
 * and global norms match the job's own double-precision norms to 1e-5, global-norm clipping moves
 * each weight by exactly the clipped gradient (SGD, learning rate 1, to 1e-6) and the NaN step is
 * skipped. The versions and their jars come from the build ({@code djl.tested} in agent/pom.xml).
 */
class DjlVersionsIT {

    /** One tested DJL and the PyTorch it runs with. */
    record Tested(String djl, String pytorch) {
        @Override
        public String toString() {
            return "DJL " + djl + " / PyTorch " + pytorch;
        }
    }

    static Stream<Tested> tested() {
        String list = System.getProperty("gradguard.djl.tested");
        if (list == null || list.isBlank()) {
            throw new AssertionError(
                    "gradguard.djl.tested is not set: run through mvn verify, which sets it from agent/pom.xml");
        }
        return Stream.of(list.split(",")).map(v -> v.split(":")).map(p -> new Tested(p[0].trim(), p[1].trim()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tested")
    void agentIsExactOnThisDjl(Tested version) throws Exception {
        String out = ClipCheck.runAndCheck(ChildJvm.java(), classPath(version), 12, 7);
        assertTrue(out.contains("engine PyTorch " + version.pytorch() + ", DJL " + version.djl()), out);
        assertTrue(out.contains("[gradguard] watching Trainer.step() of DJL " + version.djl() + ";"), out);
        assertFalse(out.contains("untested"), out);
    }

    /** That version's jars, its PyTorch's natives, and the test classes (the job): no other DJL. */
    static String classPath(Tested version) throws IOException {
        Path target = Path.of(System.getProperty("gradguard.djl.dir", "target"));
        Path dir = target.resolve("djl-" + version.djl());
        Path natives =
                target.resolve("djl-natives").resolve("pytorch-native-cpu-" + version.pytorch() + "-linux-x86_64.jar");
        List<String> entries = new ArrayList<>();
        entries.add(target.resolve("test-classes").toString());
        try (Stream<Path> jars = Files.list(dir)) {
            jars.filter(p -> p.toString().endsWith(".jar")).sorted().forEach(p -> entries.add(p.toString()));
        }
        entries.add(ChildJvm.requireFile(natives.toString()));
        assertTrue(
                entries.stream().anyMatch(e -> e.endsWith("api-" + version.djl() + ".jar")),
                "no DJL api jar in " + dir);
        return String.join(File.pathSeparator, entries);
    }
}
