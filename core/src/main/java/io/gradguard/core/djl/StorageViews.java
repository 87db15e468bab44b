package io.gradguard.core.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.util.NativeResource;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodType;
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

    /**
     * Floats a Java loop copies out of a view at a time, to work on an array (no bounds or buffer
     * checks per element): 8 KB, which stays in the L1 cache between the copy and its use.
     */
    public static final int CHUNK_FLOATS = 2048;

    /** {@code PyTorchLibrary.LIB.torchIsContiguous(handle)}, found from the first tensor's class loader. */
    private static volatile MethodHandle isContiguous;

    /** {@code PyTorchLibrary.LIB.torchDataPtr(handle)}: a copy of the tensor's bytes, one native call. */
    private static volatile MethodHandle copyBytes;

    private static volatile boolean looked;

    private static final boolean LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

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

    /**
     * Copies a float32 result that the agent's own reduction just made on the CPU, with one native
     * call (a copy of its bytes into a Java array) where {@code toByteBuffer(true)} makes five
     * (device, sparsity, layout twice, contiguity) and a view of the storage costs the JVM a direct
     * buffer object made from native code.
     *
     * @param result a result tensor on the CPU (never another device: its bytes are read directly)
     * @param elements how many floats it holds; a result of another size (another type) is not copied
     * @param out where the values go
     * @param at the position of the first value in {@code out}
     * @return whether the values were copied; false when it cannot be done this way
     */
    public static boolean copyResult(NDArray result, int elements, float[] out, int at) {
        long handle = handle(result);
        return handle != 0 && copyFloats(handle, elements, out, at);
    }

    /**
     * The native handle of a PyTorch tensor, for the agent's own calls on raw handles.
     *
     * @param array the tensor
     * @return its handle, or 0 where it cannot be had (another engine, another DJL)
     */
    static long handle(NDArray array) {
        bind(array);
        // DJL's own type, not a method handle: asked at every step, and a handle held in a
        // field is not one the JIT can inline
        return array instanceof NativeResource<?> r && r.getHandle() instanceof Long h ? h : 0;
    }

    /**
     * {@link #copyResult} on a raw handle, once {@link #handle} has found the binding.
     *
     * @param handle a CPU tensor's native handle (never another device's: its bytes are read directly)
     * @param elements how many floats it holds; a tensor of another size (another type) is not copied
     * @param out where the values go
     * @param at the position of the first value in {@code out}
     * @return whether the values were copied
     */
    static boolean copyFloats(long handle, int elements, float[] out, int at) {
        MethodHandle bytesOf = copyBytes;
        if (bytesOf == null) {
            return false;
        }
        try {
            byte[] bytes = (byte[]) bytesOf.invokeExact(handle);
            if (bytes == null || bytes.length != 4 * elements) {
                return false;
            }
            for (int i = 0; i < elements; i++) {
                out[at + i] = floatAt(bytes, 4 * i);
            }
            return true;
        } catch (Throwable e) {
            return false;
        }
    }

    /**
     * The float at a byte offset, in native order, decoded from its bits. Wrapping the bytes in a
     * buffer and a float view instead made two objects per call, and in a profile of a 3,000-step
     * mlp run that wrapping was a fifth of the loss read and 7% of the sums on raw handles.
     */
    private static float floatAt(byte[] bytes, int offset) {
        int b0 = bytes[offset] & 0xff;
        int b1 = bytes[offset + 1] & 0xff;
        int b2 = bytes[offset + 2] & 0xff;
        int b3 = bytes[offset + 3] & 0xff;
        return Float.intBitsToFloat(
                LITTLE_ENDIAN ? b0 | b1 << 8 | b2 << 16 | b3 << 24 : b3 | b2 << 8 | b1 << 16 | b0 << 24);
    }

    private static boolean contiguous(NDArray array) {
        long handle = handle(array);
        MethodHandle binding = isContiguous;
        if (handle == 0 || binding == null) {
            return false;
        }
        try {
            return (boolean) binding.invokeExact(handle);
        } catch (Throwable e) {
            return false;
        }
    }

    private static void bind(NDArray array) {
        if (looked) {
            return;
        }
        synchronized (StorageViews.class) {
            if (!looked) {
                ClassLoader engine = array.getClass().getClassLoader();
                isContiguous = PyTorchLibraryBinding.library(
                        engine, "torchIsContiguous", MethodType.methodType(boolean.class, long.class));
                copyBytes = PyTorchLibraryBinding.library(
                        engine, "torchDataPtr", MethodType.methodType(byte[].class, long.class));
                looked = true;
            }
        }
    }
}
