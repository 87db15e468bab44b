package io.gradguard.agent.jobs;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts a DJL job the way fat-jar launchers and plugin hosts do: DJL lives in a URLClassLoader
 * that the system class loader cannot see. Property {@code nested.classpath} lists the job's class
 * path; the arguments are the job's main class and its arguments.
 */
public final class NestedLoaderLauncher {

    private NestedLoaderLauncher() {}

    public static void main(String[] args) throws Exception {
        try {
            Class.forName("ai.djl.training.Trainer");
            throw new IllegalStateException("DJL is on the system class path: the test would prove nothing");
        } catch (ClassNotFoundException expected) {
            System.out.println("DJL not visible from the system class loader");
        }
        List<URL> urls = new ArrayList<>();
        for (String path : System.getProperty("nested.classpath").split(File.pathSeparator)) {
            urls.add(new File(path).toURI().toURL());
        }
        try (URLClassLoader loader =
                new URLClassLoader("job", urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
            Thread.currentThread().setContextClassLoader(loader); // DJL finds its engine through it
            Method main = loader.loadClass(args[0]).getMethod("main", String[].class);
            String[] rest = new String[args.length - 1];
            System.arraycopy(args, 1, rest, 0, rest.length);
            main.invoke(null, (Object) rest);
        }
    }
}
