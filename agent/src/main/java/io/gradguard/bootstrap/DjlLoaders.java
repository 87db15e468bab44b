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

    /** Per collector class: the loader of its {@code GradientCollector}, or {@link #NONE}. */
    private static final ClassValue<Object> COLLECTOR_LOADERS = new ClassValue<>() {
        @Override
        protected Object computeValue(Class<?> type) {
            ClassLoader loader = collectorInterfaceLoader(type);
            return loader != null ? loader : NONE;
        }
    };

    private static final Object NONE = new Object();

    /**
     * Whether this collector implements the {@code GradientCollector} of the DJL in {@code loader},
     * asked at every {@code backward}: the walk of its interfaces is made once per class.
     */
    static boolean collectorOf(Class<?> type, ClassLoader loader) {
        return COLLECTOR_LOADERS.get(type) == loader;
    }

    /** The loader of DJL's {@code GradientCollector} interface that this collector implements. */
    private static ClassLoader collectorInterfaceLoader(Class<?> type) {
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
