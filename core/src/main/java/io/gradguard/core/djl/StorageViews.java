package io.gradguard.core.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Views of a CPU tensor's own storage that stay valid while the tensor lives: what lets the agent
 * read a kept gradient each step without a native call.
 *
 * <p>DJL's {@code toByteBuffer(true)} aliases the storage only when the tensor is contiguous; for
 * any other tensor it silently returns a view of a fresh contiguous copy, which would go stale
 * after one step. DJL does not expose contiguity, so it is asked of PyTorch's own
 * {@code is_contiguous} through DJL's native binding, once per tensor when the view is made; where
 * that binding cannot be found (another engine, another DJL shape) no view is made and the caller
 * keeps its native path.
 */
public final class StorageViews {

    /** {@code PyTorchLibrary.LIB.torchIsContiguous(handle)}, found from the first tensor's class loader. */
    private static volatile MethodHandle isContiguous;

    private static volatile boolean looked;

    private StorageViews() {}

    /**
     * A view of a float32 CPU tensor's storage, when it can be had.
     *
     * @param array the tensor; the view is valid while it lives and keeps its storage
     * @return the view in native order, or null when the tensor is not a contiguous float32 CPU
     *     PyTorch tensor (or contiguity cannot be asked)
     */
    public static FloatBuffer floats(NDArray array) {
        if (array.getDataType() != DataType.FLOAT32
                || !Device.Type.CPU.equals(array.getDevice().getDeviceType())
                || !contiguous(array)) {
            return null;
        }
        return array.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static boolean contiguous(NDArray array) {
        if (!looked) {
            isContiguous = isContiguousBinding(array.getClass().getClassLoader());
            looked = true;
        }
        MethodHandle binding = isContiguous;
        if (binding == null) {
            return false;
        }
        try {
            Object handle = array.getClass().getMethod("getHandle").invoke(array);
            return handle instanceof Long h && (boolean) binding.invoke(h.longValue());
        } catch (Throwable e) {
            return false;
        }
    }

    private static MethodHandle isContiguousBinding(ClassLoader engine) {
        try {
            Class<?> library = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary", false, engine);
            Field lib = library.getDeclaredField("LIB");
            lib.setAccessible(true);
            Method method = library.getDeclaredMethod("torchIsContiguous", long.class);
            method.setAccessible(true);
            return MethodHandles.lookup()
                    .unreflect(method)
                    .bindTo(lib.get(null))
                    .asType(MethodType.methodType(boolean.class, long.class));
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
