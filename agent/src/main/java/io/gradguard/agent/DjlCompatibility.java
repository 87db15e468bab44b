package io.gradguard.agent;

import io.gradguard.core.djl.SupportedDjl;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URL;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.FieldVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The DJL versions gradguard supports, and the check made when DJL's {@code Trainer} loads. The
 * check reads class files and resources only, so no DJL class loads early: the DJL version from
 * {@code ai/djl/engine/api.properties} (DJL's own record of it) or the manifest of the jar that
 * holds {@code Trainer}, and the shapes the agent relies on: {@code Trainer.step()}, the fields
 * {@code parameterStore} and {@code gradientsChecked}, and {@code GradientCollector.backward(NDArray)}.
 *
 * <p>A DJL inside the tested range, or outside it with the same shapes, is instrumented (outside
 * it the start line says it is untested). A shape the agent does not know gets one line naming
 * the version, the range and the fix, and nothing of the job is touched.
 */
final class DjlCompatibility {

    /** The first DJL version the agent is tested with (PyTorch engine, CPU). */
    static final String FIRST_TESTED = SupportedDjl.FIRST_TESTED;
    /** The last DJL version the agent is tested with. */
    static final String LAST_TESTED = SupportedDjl.LAST_TESTED;

    static final String RANGE = SupportedDjl.RANGE;

    private static final String API_PROPERTIES = "ai/djl/engine/api.properties";
    private static final String COLLECTOR_FILE = TrainerTransformer.GRADIENT_COLLECTOR_FILE + ".class";

    /**
     * What the agent concluded.
     *
     * @param version the DJL version seen, or null when none could be read
     * @param supported whether the agent instruments this DJL
     * @param message for a supported DJL, how the start line names it; otherwise the one line to print
     */
    record Verdict(String version, boolean supported, String message) {}

    private DjlCompatibility() {}

    /**
     * Checks the DJL whose {@code Trainer} is loading.
     *
     * @param loader the loader defining {@code Trainer}
     * @param pd its protection domain (where its code comes from), may be null
     * @param trainerClassFile its class file
     */
    static Verdict check(ClassLoader loader, ProtectionDomain pd, byte[] trainerClassFile) throws IOException {
        URL location = pd == null || pd.getCodeSource() == null
                ? null
                : pd.getCodeSource().getLocation();
        return verdict(version(loader, location), trainerClassFile, resource(loader, COLLECTOR_FILE));
    }

    /** The verdict for a version and the two class files (the collector's may be null: not found). */
    static Verdict verdict(String version, byte[] trainerClassFile, byte[] collectorClassFile) {
        List<String> missing = new ArrayList<>();
        Members trainer = Members.of(trainerClassFile);
        require(trainer, "step", "()V", "method step()", missing);
        require(
                trainer,
                "parameterStore",
                "Lai/djl/training/ParameterStore;",
                "field parameterStore (ParameterStore)",
                missing);
        require(trainer, "gradientsChecked", "Z", "field gradientsChecked (boolean)", missing);
        String seen = version == null ? "DJL (version unknown)" : "DJL " + version;
        if (!missing.isEmpty()) {
            return new Verdict(
                    version,
                    false,
                    unsupported(seen, TrainerTransformer.TRAINER + " has no " + String.join(", no ", missing)));
        }
        if (collectorClassFile == null
                || !Members.of(collectorClassFile).has("backward", "(Lai/djl/ndarray/NDArray;)V")) {
            return new Verdict(
                    version,
                    false,
                    unsupported(seen, TrainerTransformer.GRADIENT_COLLECTOR + " has no method backward(NDArray)"));
        }
        if (version != null && inRange(version)) {
            return new Verdict(version, true, seen);
        }
        return new Verdict(version, true, seen + " (untested: gradguard is tested with " + RANGE + ")");
    }

    private static String unsupported(String seen, String why) {
        return "[gradguard] " + seen + " is not supported: " + why + "; gradguard supports " + RANGE
                + ". Use a DJL in that range, or a gradguard release that supports this one. The job runs without gradguard.";
    }

    private static void require(Members members, String name, String descriptor, String what, List<String> missing) {
        if (!members.has(name, descriptor)) {
            missing.add(what);
        }
    }

    static boolean inRange(String version) {
        int[] v = numbers(version);
        return v != null && compare(v, numbers(FIRST_TESTED)) >= 0 && compare(v, numbers(LAST_TESTED)) <= 0;
    }

    /** The first three numbers of a version ("0.35.1", "0.36.0-SNAPSHOT"), or null when it does not start with one. */
    private static int[] numbers(String version) {
        String[] parts = version.trim().split("[.\\-+]");
        int[] n = new int[3];
        for (int i = 0; i < n.length && i < parts.length; i++) {
            if (!parts[i].matches("\\d{1,9}")) {
                return i == 0 ? null : n;
            }
            n[i] = Integer.parseInt(parts[i]);
        }
        return n;
    }

    private static int compare(int[] a, int[] b) {
        for (int i = 0; i < a.length; i++) {
            if (a[i] != b[i]) {
                return Integer.compare(a[i], b[i]);
            }
        }
        return 0;
    }

    /**
     * The DJL version: {@code api.properties} as the loader finds it, if it comes from the same
     * place as {@code Trainer}; else from that place (a jar's {@code api.properties} or manifest).
     */
    static String version(ClassLoader loader, URL trainerLocation) throws IOException {
        URL props = loader == null ? ClassLoader.getSystemResource(API_PROPERTIES) : loader.getResource(API_PROPERTIES);
        if (props != null && (trainerLocation == null || props.toString().contains(trainerLocation.toString()))) {
            try (InputStream in = props.openStream()) {
                return djlVersion(in);
            }
        }
        File jar = trainerLocation == null ? null : jarFile(trainerLocation);
        if (jar == null) {
            return null;
        }
        try (JarFile j = new JarFile(jar)) {
            ZipEntry e = j.getEntry(API_PROPERTIES);
            if (e != null) {
                try (InputStream in = j.getInputStream(e)) {
                    return djlVersion(in);
                }
            }
            Manifest m = j.getManifest();
            return m == null ? null : m.getMainAttributes().getValue("Specification-Version");
        }
    }

    private static File jarFile(URL location) {
        try {
            File f = new File(URI.create(location.toString()));
            return f.isFile() ? f : null;
        } catch (IllegalArgumentException e) {
            return null; // not a plain file URL (a nested jar of a launcher): no version from it
        }
    }

    private static String djlVersion(InputStream in) throws IOException {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("djl_version");
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static byte[] resource(ClassLoader loader, String name) throws IOException {
        try (InputStream in =
                loader == null ? ClassLoader.getSystemResourceAsStream(name) : loader.getResourceAsStream(name)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    /** The names and descriptors of a class file's fields and methods. */
    private static final class Members {
        private final Set<String> members = new HashSet<>();

        static Members of(byte[] classFile) {
            Members m = new Members();
            new ClassReader(classFile)
                    .accept(
                            new ClassVisitor(Opcodes.ASM9) {
                                @Override
                                public FieldVisitor visitField(
                                        int access, String name, String descriptor, String signature, Object value) {
                                    m.members.add(name.concat(descriptor));
                                    return null;
                                }

                                @Override
                                public MethodVisitor visitMethod(
                                        int access,
                                        String name,
                                        String descriptor,
                                        String signature,
                                        String[] exceptions) {
                                    if ((access & Opcodes.ACC_STATIC) == 0) {
                                        m.members.add(name.concat(descriptor));
                                    }
                                    return null;
                                }
                            },
                            ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
            return m;
        }

        boolean has(String name, String descriptor) {
            return members.contains(name.concat(descriptor));
        }
    }
}
