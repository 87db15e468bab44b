package io.gradguard.bootstrap;

/**
 * Which DJL an object belongs to: the class loader of the DJL type it extends or implements, found
 * by name so that this package keeps to JDK types (it is on the bootstrap class path).
 */
final class DjlLoaders {

    private DjlLoaders() {}

    /** The loader of the DJL whose {@code BaseModel} this model extends. */
    static ClassLoader baseModelLoader(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if ("ai.djl.BaseModel".equals(c.getName())) {
                return c.getClassLoader();
            }
        }
        return null;
    }

    /** The loader of DJL's {@code GradientCollector} interface that this collector implements. */
    static ClassLoader collectorInterfaceLoader(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Class<?> i : c.getInterfaces()) {
                if ("ai.djl.training.GradientCollector".equals(i.getName())) {
                    return i.getClassLoader();
                }
            }
        }
        return null;
    }

    /** The loader of DJL's own Trainer, also when the job subclasses it elsewhere. */
    static ClassLoader djlLoader(Class<?> type) {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            if ("ai.djl.training.Trainer".equals(c.getName())) {
                return c.getClassLoader();
            }
        }
        return type.getClassLoader();
    }
}
