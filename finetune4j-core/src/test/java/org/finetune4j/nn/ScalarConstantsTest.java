package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Constants that autograd records must live in memory PyTorch owns: a gradient computed after the
 * garbage collector has freed Java direct buffers (and malloc has handed their memory to new ones)
 * is still exact. DJL's {@code x.div(4.0)} fails this: its scalar is a from_blob tensor over a direct
 * buffer that DJL closes at once while DivBackward still holds it.
 */
class ScalarConstantsTest {

    @Test
    void gradientsThroughScalarConstantsSurviveGarbageCollection() throws Exception {
        for (int round = 0; round < 5; round++) {
            try (NDManager m = NDManager.newBaseManager()) {
                NDArray w = m.create(new float[] {1, 2, 3});
                w.setRequiresGradient(true);
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = w.div(Functional.scalar(w, 4.0)).mul(Functional.scalar(w, 2.0)).sum(); // ()
                    churnFreedDirectMemory();
                    gc.backward(y);
                }
                assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, w.getGradient().toFloatArray(), 0f);
            }
        }
    }

    /** Frees the direct buffers nobody references, then reuses their memory for buffers full of 1e-30. */
    static void churnFreedDirectMemory() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        List<ByteBuffer> keep = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.nativeOrder());
            b.putFloat(0, 1e-30f);
            keep.add(b);
        }
    }
}
