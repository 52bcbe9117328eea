package org.finetune4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * A tensor in Java heap or mapped memory: dtype, shape and little-endian bytes, exactly as safetensors
 * stores it. Checkpoint I/O works on these so that file formats never touch native (DJL) memory.
 */
public record HostTensor(DType dtype, long[] shape, ByteBuffer data) {

    public HostTensor {
        shape = shape.clone();
        long expected = numel(shape) * dtype.bytes();
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("tensor data has " + data.remaining() + " bytes, shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + expected);
        }
        data = data.slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    public static HostTensor ofFloats(float[] values, long... shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return new HostTensor(DType.F32, shape, buf);
    }

    public static HostTensor ofLongs(long[] values, long... shape) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        buf.asLongBuffer().put(values);
        return new HostTensor(DType.I64, shape, buf);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long numel() {
        return numel(shape);
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** A read-only little-endian view of the bytes. */
    public ByteBuffer bytes() {
        return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * The values as float32. F32 is copied as is; F16, BF16 and F64 are converted here, in Java, because
     * passing reduced-precision types through DJL's JNI can abort the JVM (see DJL-NOTES.md).
     */
    public float[] toFloats() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        ByteBuffer b = bytes();
        switch (dtype) {
            case F32 -> b.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = halfToFloat(b.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xffff) << 16);
                }
            }
            default -> throw new CheckpointException("tensor of dtype " + dtype
                    + " cannot be read as floating point values; a floating-point tensor was expected here");
        }
        return out;
    }

    /** IEEE 754 binary16 to float32 (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13)); // inf or NaN
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero)
            return sign == 0 ? v : -v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** The values as float32 in a little-endian buffer (no copy when already F32). */
    public FloatBuffer toFloatBuffer() {
        if (dtype == DType.F32) {
            return bytes().asFloatBuffer();
        }
        return FloatBuffer.wrap(toFloats());
    }

    /** Integer tensors as longs (I64, I32, I16, I8, U8, BOOL). */
    public long[] toLongs() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        ByteBuffer b = bytes();
        for (int i = 0; i < n; i++) {
            out[i] = switch (dtype) {
                case I64 -> b.getLong(i * 8);
                case I32 -> b.getInt(i * 4);
                case I16 -> b.getShort(i * 2);
                case I8 -> b.get(i);
                case U8, BOOL -> b.get(i) & 0xff;
                default -> throw new CheckpointException("tensor of dtype " + dtype
                        + " cannot be read as integers; an integer tensor was expected here");
            };
        }
        return out;
    }

    /** Bit-exact equality of dtype, shape and bytes. */
    public boolean sameAs(HostTensor other) {
        return dtype == other.dtype && Arrays.equals(shape, other.shape) && bytes().equals(other.bytes());
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
