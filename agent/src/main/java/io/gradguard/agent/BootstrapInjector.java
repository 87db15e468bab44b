package io.gradguard.agent;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.util.Enumeration;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;

/**
 * Puts the bridge ({@code io.gradguard.bootstrap.*}, JDK types only) on the bootstrap class path,
 * where advice inlined into any class loader can reach it. Must run before anything loads a bridge
 * class through the system loader, which would otherwise define a second, unconnected copy.
 */
final class BootstrapInjector {

    private static final String PREFIX = "io/gradguard/bootstrap/";

    private BootstrapInjector() {}

    static void inject(Instrumentation inst, File agentJar) throws IOException {
        File bridgeJar = File.createTempFile("gradguard-bootstrap", ".jar");
        bridgeJar.deleteOnExit();
        try (JarFile source = new JarFile(agentJar);
                OutputStream file = Files.newOutputStream(bridgeJar.toPath());
                JarOutputStream out = new JarOutputStream(file)) {
            Enumeration<JarEntry> entries = source.entries();
            int copied = 0;
            while (entries.hasMoreElements()) {
                JarEntry e = entries.nextElement();
                if (e.getName().startsWith(PREFIX) && e.getName().endsWith(".class")) {
                    out.putNextEntry(new JarEntry(e.getName()));
                    try (InputStream in = source.getInputStream(e)) {
                        in.transferTo(out);
                    }
                    out.closeEntry();
                    copied++;
                }
            }
            if (copied == 0) {
                throw new IOException("no bridge classes in " + agentJar + " (is this the shaded agent jar?)");
            }
        }
        inst.appendToBootstrapClassLoaderSearch(new JarFile(bridgeJar));
    }
}
