package io.gradguard.agent;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.JarFile;

/**
 * Puts the bridge ({@code io.gradguard.bootstrap.*}, JDK types only) on the bootstrap class path,
 * where advice inlined into any class loader can reach it. The build packs the bridge into a small
 * jar inside the agent jar ({@value #RESOURCE}); this copies those few KB to a private temporary
 * file, because the JVM takes only jar files on disk.
 */
final class BootstrapInjector {

    static final String RESOURCE = "/META-INF/gradguard/bootstrap.jar";

    private BootstrapInjector() {}

    static void inject(Instrumentation inst) throws IOException {
        Path jar = Files.createTempFile("gradguard-bootstrap", ".jar"); // owner-only permissions
        jar.toFile().deleteOnExit();
        try (InputStream in = BootstrapInjector.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("no " + RESOURCE + " in the agent jar (is this the shaded gradguard-agent.jar?)");
            }
            Files.copy(in, jar, StandardCopyOption.REPLACE_EXISTING);
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(jar.toFile()));
    }
}
