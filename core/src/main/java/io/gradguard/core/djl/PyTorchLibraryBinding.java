package io.gradguard.core.djl;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Handles on DJL's PyTorch native binding ({@code PyTorchLibrary.LIB}), found through the class
 * loader of the job's own DJL: the agent compiles against DJL's API only, and the binding's
 * methods are package-private. Every lookup returns null where the binding has another shape (another
 * engine, another DJL), so that callers keep their plain DJL path.
 */
final class PyTorchLibraryBinding {

    private PyTorchLibraryBinding() {}

    /**
     * One method of {@code PyTorchLibrary.LIB}, bound to it.
     *
     * @param engine the class loader of the job's DJL
     * @param name the method's name
     * @param type the method's type, without the receiver
     * @return the bound handle, or null when there is no such method
     */
    static MethodHandle library(ClassLoader engine, String name, MethodType type) {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary", false, engine);
            Field lib = library.getDeclaredField("LIB");
            lib.setAccessible(true);
            Method method = library.getDeclaredMethod(name, type.parameterArray());
            if (method.getReturnType() != type.returnType()) {
                return null;
            }
            method.setAccessible(true);
            return MethodHandles.lookup().unreflect(method).bindTo(lib.get(null));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
