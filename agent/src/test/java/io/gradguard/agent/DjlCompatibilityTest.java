package io.gradguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;

/**
 * The compatibility check on the real class files of every tested DJL (read from the jars the build
 * copies for {@code DjlVersionsIT}, never loaded), the range it declares against the versions the
 * build tests, and its answers outside the range.
 */
class DjlCompatibilityTest {

    private static final String TRAINER = "ai/djl/training/Trainer.class";
    private static final String COLLECTOR = "ai/djl/training/GradientCollector.class";

    @Test
    void theDeclaredRangeIsExactlyTheTestedVersions() {
        List<String> tested = tested();
        assertEquals(DjlCompatibility.FIRST_TESTED, tested.get(0));
        assertEquals(DjlCompatibility.LAST_TESTED, tested.get(tested.size() - 1));
        for (String v : tested) {
            assertTrue(DjlCompatibility.inRange(v), v);
        }
    }

    @Test
    void everyTestedDjlIsSupportedAndNamedByItsVersion() throws IOException {
        for (String v : tested()) {
            Path jar = apiJar(v);
            try (URLClassLoader djl =
                    new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
                ProtectionDomain pd =
                        new ProtectionDomain(new CodeSource(jar.toUri().toURL(), (Certificate[]) null), null);
                DjlCompatibility.Verdict verdict = DjlCompatibility.check(djl, pd, read(djl, TRAINER));
                assertEquals(new DjlCompatibility.Verdict(v, true, "DJL " + v), verdict);
            }
        }
    }

    @Test
    void theSameShapesOutsideTheRangeAreSupportedButSaidToBeUntested() throws IOException {
        byte[][] djl = classFiles(DjlCompatibility.LAST_TESTED);
        for (String v : List.of("0.31.1", "0.36.1", "0.38.0")) {
            DjlCompatibility.Verdict verdict = DjlCompatibility.verdict(v, djl[0], djl[1]);
            assertTrue(verdict.supported(), v);
            assertEquals("DJL " + v + " (untested: gradguard is tested with DJL 0.32.0 to 0.36.0)", verdict.message());
        }
        assertEquals(
                "DJL (version unknown) (untested: gradguard is tested with DJL 0.32.0 to 0.36.0)",
                DjlCompatibility.verdict(null, djl[0], djl[1]).message());
    }

    @Test
    void anUnknownShapeIsNamedWithTheVersionTheRangeAndTheFix() throws IOException {
        byte[][] djl = classFiles(DjlCompatibility.LAST_TESTED);
        // a collector class file without backward(NDArray) (here: Trainer's), or none found at all
        assertFalse(DjlCompatibility.verdict("0.40.0", djl[0], null).supported());
        DjlCompatibility.Verdict noCollector = DjlCompatibility.verdict("0.40.0", djl[0], djl[0]);
        assertFalse(noCollector.supported());
        assertEquals(
                "[gradguard] DJL 0.40.0 is not supported: ai.djl.training.GradientCollector has no method backward(NDArray);"
                        + " gradguard supports DJL 0.32.0 to 0.36.0. Use a DJL in that range, or a gradguard release that supports"
                        + " this one. The job runs without gradguard.",
                noCollector.message());
        DjlCompatibility.Verdict otherTrainer = DjlCompatibility.verdict("0.35.1", djl[1], djl[1]);
        assertFalse(otherTrainer.supported(), "the version alone does not make a class file a Trainer");
        assertTrue(
                otherTrainer
                        .message()
                        .startsWith(
                                "[gradguard] DJL 0.35.1 is not supported: ai.djl.training.Trainer has no"
                                        + " method step(), no field parameterStore (ParameterStore), no field gradientsChecked (boolean);"),
                otherTrainer.message());
    }

    @Test
    void theVersionComesFromTheManifestWhenTheJarHasNoApiProperties() throws IOException {
        Path jar = Files.createTempFile("gradguard-djl", ".jar");
        Manifest m = new Manifest();
        m.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        m.getMainAttributes().put(Attributes.Name.SPECIFICATION_VERSION, "0.33.0");
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream j = new JarOutputStream(out, m)) {
            j.putNextEntry(new java.util.zip.ZipEntry("ai/djl/training/README"));
        }
        try (URLClassLoader loader =
                new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            assertEquals("0.33.0", DjlCompatibility.version(loader, jar.toUri().toURL()));
        }
    }

    @Test
    void versionsCompareByNumberNotByText() {
        assertTrue(DjlCompatibility.inRange("0.32.0"));
        assertTrue(DjlCompatibility.inRange("0.36.0"));
        assertTrue(DjlCompatibility.inRange("0.36.0-SNAPSHOT"));
        assertFalse(DjlCompatibility.inRange("0.36.1"));
        assertFalse(DjlCompatibility.inRange("0.4.0"));
        assertFalse(DjlCompatibility.inRange("0.100.0"));
        assertFalse(DjlCompatibility.inRange("latest"));
    }

    /** The tested DJL versions, in the build's order. */
    private static List<String> tested() {
        String list = System.getProperty("gradguard.djl.tested");
        assertTrue(
                list != null && !list.isBlank(),
                "gradguard.djl.tested is not set: run through mvn, which sets it from agent/pom.xml");
        List<String> versions = new ArrayList<>();
        for (String pair : list.split(",")) {
            versions.add(pair.split(":")[0].trim());
        }
        return versions;
    }

    private static Path apiJar(String version) {
        Path jar =
                Path.of(System.getProperty("gradguard.djl.dir", "target"), "djl-" + version, "api-" + version + ".jar");
        assertTrue(Files.isRegularFile(jar), jar + " is missing: the build copies it at process-test-resources");
        return jar;
    }

    /** Trainer's and GradientCollector's class files of that DJL. */
    private static byte[][] classFiles(String version) throws IOException {
        try (URLClassLoader djl =
                new URLClassLoader(new URL[] {apiJar(version).toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            return new byte[][] {read(djl, TRAINER), read(djl, COLLECTOR)};
        }
    }

    private static byte[] read(ClassLoader loader, String name) throws IOException {
        try (InputStream in = loader.getResourceAsStream(name)) {
            assertTrue(in != null, name);
            return in.readAllBytes();
        }
    }
}
