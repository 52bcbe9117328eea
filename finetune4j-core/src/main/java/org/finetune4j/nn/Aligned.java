package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Float tensors made from Java values in memory that PyTorch allocated. On the CPU, DJL's
 * {@code NDManager.create(float[])} and {@code create(ByteBuffer)} wrap a Java direct buffer without
 * copying, and such buffers are only 16-byte aligned, at an address that changes from process to process;
 * PyTorch's own allocations are 64-byte aligned. oneMKL and oneDNN pick kernels by alignment, so a weight
 * matrix in a Java buffer could round differently in another run of the same command: training with one
 * seed was not bit-reproducible across processes in 2 of 7 runs (docs/performance.md) until the
 * weights, and the other float inputs of products, were made here (AlignedTest).
 */
public final class Aligned {
    private Aligned() {
    }

    /** A float32 tensor of {@code shape} holding {@code values} (read from their position on). */
    public static NDArray floats(NDManager manager, FloatBuffer values, Shape shape) {
        if (values.remaining() != shape.size()) {
            throw new IllegalArgumentException(values.remaining() + " values for shape " + shape);
        }
        NDArray a = manager.create(shape, DataType.FLOAT32); // PyTorch-owned, uninitialised
        ByteBuffer view = a.toByteBuffer(true);
        if (!view.isDirect()) { // an accelerator: the copy to the device is PyTorch's allocation anyway
            a.close();
            float[] copy = new float[values.remaining()];
            values.duplicate().get(copy);
            return manager.create(copy, shape);
        }
        view.order(ByteOrder.nativeOrder()).asFloatBuffer().put(values.duplicate());
        return a;
    }

    public static NDArray floats(NDManager manager, float[] values, Shape shape) {
        return floats(manager, FloatBuffer.wrap(values), shape);
    }
}
