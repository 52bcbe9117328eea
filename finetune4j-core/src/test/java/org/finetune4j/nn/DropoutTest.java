package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Dropout's masks drawn in Java: torch's distribution and scaling, seeded, and safe for backward. */
class DropoutTest {
    static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    @Test
    void keepsOneMinusPOfTheElementsScaledByItsInverse() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.randomUniform(1, 2, new Shape(1000, 1001)); // odd count: the last element alone
            Functional.seed(7);
            float[] in = x.toFloatArray();
            float[] out = Functional.dropout(x, 0.1, true).toFloatArray();
            int zeros = 0;
            for (int i = 0; i < in.length; i++) {
                if (out[i] == 0f) {
                    zeros++;
                } else {
                    assertEquals(in[i] * (float) (1 / 0.9), out[i], 1e-6f * out[i]);
                }
            }
            double fraction = (double) zeros / in.length;
            assertEquals(0.1, fraction, 0.002, "fraction dropped");
            assertSame(x, Functional.dropout(x, 0.1, false), "no dropout at evaluation");
            assertSame(x, Functional.dropout(x, 0.0, true));
        }
    }

    @Test
    void theSameSeedGivesTheSameMasks() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.ones(new Shape(64, 77));
            Functional.seed(11);
            float[] a = Functional.dropout(x, 0.3, true).toFloatArray();
            float[] a2 = Functional.dropout(x, 0.3, true).toFloatArray(); // the next draw of the same stream
            Functional.seed(11);
            float[] b = Functional.dropout(x, 0.3, true).toFloatArray();
            Functional.seed(12);
            float[] c = Functional.dropout(x, 0.3, true).toFloatArray();
            assertArrayEquals(a, b);
            assertFalse(Arrays.equals(a, a2));
            assertFalse(Arrays.equals(a, c));
        }
    }

    @Test
    void backwardReadsTheMaskAfterItsHandleIsClosedAndCollected() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.randomUniform(-1, 1, new Shape(256, 384));
            x.setRequiresGradient(true);
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray out;
                Functional.seed(3);
                try (NDManager layer = m.newSubManager()) {
                    x.tempAttach(layer);
                    NDArray d = Functional.dropout(x, 0.25, true); // the mask's handle is closed with this scope
                    d.attach(m);
                    out = d;
                }
                y = out.toFloatArray();
                System.gc();
                for (int i = 0; i < 20; i++) {
                    m.ones(new Shape(256, 384)).close(); // reuse whatever memory was freed
                }
                gc.backward(out.sum());
            }
            float[] in = x.toFloatArray();
            float[] grad = x.getGradient().toFloatArray();
            for (int i = 0; i < grad.length; i++) {
                float expected = y[i] == 0f ? 0f : (float) (1 / 0.75);
                assertEquals(expected, grad[i], 1e-6f, "d out / d x at " + i + " (x = " + in[i] + ")");
            }
        }
    }

    @Test
    void maskFillerHandlesEveryLength() {
        for (int n : new int[] {1, 2, 3, 1001}) {
            java.nio.ByteBuffer f = java.nio.ByteBuffer.allocate(n);
            Functional.fillMask(f, 0.5, new java.util.SplittableRandom(n));
            for (int i = 0; i < n; i++) {
                assertTrue(f.get(i) == 0 || f.get(i) == 1, "element " + i + " of " + n + ": " + f.get(i));
            }
        }
        java.nio.ByteBuffer all = java.nio.ByteBuffer.allocate(100_000);
        Functional.fillMask(all, 0.5, new java.util.SplittableRandom(1));
        int kept = 0;
        for (int i = 0; i < all.capacity(); i++) {
            kept += all.get(i) > 0 ? 1 : 0;
        }
        assertEquals(50_000, kept, 700);
    }

    /**
     * Training fills masks from the thread's {@link Functional.MaskStream}, in C where the kernels compiled:
     * the bytes, and where the stream continues, must be those of SplittableRandom through the Java rule,
     * for even and odd lengths, over several masks in a row.
     */
    @Test
    void masksFromTheStreamEqualSplittableRandomsByteForByte() {
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(FusedKernels.available(), FusedKernels.unavailableReason());
        }
        for (double p : new double[] {0.1, 0.5}) {
            Functional.MaskStream stream = new Functional.MaskStream(99);
            java.util.SplittableRandom reference = new java.util.SplittableRandom(99);
            for (int n : new int[] {1, 2, 3, 8193, 221_184, 70_001}) {
                java.nio.ByteBuffer ours = java.nio.ByteBuffer.allocateDirect(n);
                java.nio.ByteBuffer want = java.nio.ByteBuffer.allocateDirect(n);
                Functional.fillMask(ours, p, stream);
                Functional.fillMask(want, p, reference);
                assertEquals(want, ours, "mask of " + n + " bytes at p " + p);
            }
            assertEquals(reference.nextLong(), stream.nextLong(), "the stream goes on where SplittableRandom does");
        }
    }

    /**
     * The masks are exactly those of the rule "byte k keeps iff its 24-bit draw is not below p·2²⁴, two
     * draws per random long, low bits first": a change to how they are made must not change a seed's masks.
     */
    @Test
    void masksFollowTheDrawRuleByteForByte() {
        for (double p : new double[] {0.05, 0.1, 0.5}) {
            for (int n : new int[] {1, 2, 3, 8191, 8192, 8193, 16_385, 221_184}) {
                java.nio.ByteBuffer f = java.nio.ByteBuffer.allocateDirect(n);
                Functional.fillMask(f, p, new java.util.SplittableRandom(n + 17));
                java.util.SplittableRandom r = new java.util.SplittableRandom(n + 17);
                int drop = (int) Math.ceil(p * (1 << 24));
                long bits = 0;
                for (int i = 0; i < n; i++) {
                    int draw;
                    if (i % 2 == 0) {
                        bits = r.nextLong();
                        draw = (int) (bits & 0xFFFFFF);
                    } else {
                        draw = (int) ((bits >>> 24) & 0xFFFFFF);
                    }
                    assertEquals(draw < drop ? 0 : 1, f.get(i), "byte " + i + " of " + n + " at p " + p);
                }
            }
        }
    }
}
