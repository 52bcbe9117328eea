package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import org.finetune4j.io.HostTensor;
import org.junit.jupiter.api.Test;

/** Tensors from Java values, and loaded weights, live in 64-byte aligned memory that PyTorch allocated. */
class AlignedTest {
    static long address(NDArray a) {
        return Pointer.nativeValue(Native.getDirectBufferPointer(a.toByteBuffer(true)));
    }

    @Test
    void valuesLandInSixtyFourByteAlignedMemory() {
        try (NDManager m = NDManager.newBaseManager()) {
            for (int n = 1; n < 200; n += 7) {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = i * 0.5f - 3;
                }
                NDArray a = Aligned.floats(m, v, new Shape(n));
                assertEquals(0, address(a) % 64, "address of a " + n + "-float tensor");
                assertArrayEquals(v, a.toFloatArray());
            }
            java.nio.FloatBuffer part = java.nio.FloatBuffer.wrap(new float[] {9, 1, 2, 3, 4, 5, 6});
            part.position(1);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Aligned.floats(m, part, new Shape(2, 3)).toFloatArray());
            assertEquals(1, part.position(), "the source buffer is not consumed");
            assertThrows(IllegalArgumentException.class, () -> Aligned.floats(m, new float[5], new Shape(2, 3)));
        }
    }

    @Test
    void loadedAndInitialisedWeightsAreAligned() {
        try (NDManager m = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(m)) {
            Linear a = new Linear(store, "a", 5, 3, true, 0.02);
            Linear b = new Linear(store, "b", 7, 3, true, 0.02);
            store.initializeMissing(1);
            store.set("a.weight", HostTensor.ofFloats(new float[15], 3, 5));
            for (Param p : store.params().values()) {
                assertEquals(0, address(p.array()) % 64, p.name());
            }
            assertEquals(4, store.params().size(), "two weights and two biases: " + a + ", " + b);
        }
    }
}
