package io.gradguard.agent;

import java.net.URL;
import java.net.URLClassLoader;

/**
 * Loads the agent's runtime (core, metrics, endpoint and their relocated libraries) from the agent
 * jar, child-first, with DJL's own class loader as parent: the runtime links against the job's
 * DJL whichever loader that is (the system one, a fat-jar launcher's, a URLClassLoader the job
 * made). The bootstrap bridge is left to the parent chain so that advice and runtime share it.
 */
final class RuntimeClassLoader extends URLClassLoader {

    static {
        registerAsParallelCapable();
    }

    RuntimeClassLoader(URL agentJar, ClassLoader djlLoader) {
        super("gradguard-runtime", new URL[] {agentJar}, djlLoader);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.startsWith("io.gradguard.") || name.startsWith("io.gradguard.bootstrap.")) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> c = findLoadedClass(name);
            if (c == null) {
                c = findClass(name);
            }
            if (resolve) {
                resolveClass(c);
            }
            return c;
        }
    }
}
