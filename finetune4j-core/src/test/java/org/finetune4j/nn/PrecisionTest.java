package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The bf16 linear kernel (a TorchScript module written by {@link ScriptedKernels}) against PyTorch's fp32
 * linear: the same function up to bf16 rounding, on padded and unpadded row counts, with gradients
 * that reach fp32 weights; and when {@link Precision#use} grants bf16.
 */
class PrecisionTest {

    @AfterEach
    void backToFp32() {
        Precision.force(Precision.FP32);
    }

    /** |a - b| <= tol * max|b|, elementwise. */
    static void assertClose(NDArray expected, NDArray actual, double tol) {
        assertEquals(expected.getShape(), actual.getShape());
        assertEquals(DataType.FLOAT32, actual.getDataType());
        float scale = expected.abs().max().getFloat();
        float err = actual.sub(expected).abs().max().getFloat();
        assertTrue(err <= tol * scale, "max error " + err + " against max |value| " + scale);
        assertTrue(err > 0, "bf16 products that equal fp32 bit for bit were not computed in bf16");
    }

    @Test
    void bf16LinearIsTheFp32LinearUpToBf16Rounding() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(3);
            NDArray w = m.randomNormal(0, 0.1f, new Shape(48, 32), DataType.FLOAT32); // (out, in)
            NDArray b = m.randomNormal(0, 0.1f, new Shape(48), DataType.FLOAT32); // (out)
            // 2-D and 3-D inputs; row counts below, at and above the padding multiple
            for (Shape s : new Shape[] {new Shape(5, 32), new Shape(64, 32), new Shape(3, 43, 32), new Shape(2, 1, 32)}) {
                NDArray x = m.randomNormal(0, 1, s, DataType.FLOAT32);
                NDArray exact = x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
                assertClose(exact, ScriptedKernels.get().linearBf16(x, w, b, false), 0.02);
                NDArray exactNoBias = x.getNDArrayInternal().linear(x, w, null).singletonOrThrow();
                assertClose(exactNoBias, ScriptedKernels.get().linearBf16(x, w, null, false), 0.02);
            }
        }
    }

    @Test
    void gradientsOfTheBf16LinearReachTheFp32Weights() {
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(5);
            NDArray x = m.randomNormal(0, 1, new Shape(3, 7, 16), DataType.FLOAT32);
            NDArray w = m.randomNormal(0, 0.2f, new Shape(24, 16), DataType.FLOAT32);
            NDArray b = m.randomNormal(0, 0.2f, new Shape(24), DataType.FLOAT32);
            NDArray target = m.randomNormal(0, 1, new Shape(3, 7, 24), DataType.FLOAT32);
            NDArray[][] grads = new NDArray[2][];
            for (int path = 0; path < 2; path++) {
                NDArray[] leaves = {x.duplicate(), w.duplicate(), b.duplicate()}; // fresh leaves, no gradient yet
                for (NDArray p : leaves) {
                    p.setRequiresGradient(true);
                }
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray y = path == 0 ? leaves[0].getNDArrayInternal().linear(leaves[0], leaves[1], leaves[2]).singletonOrThrow()
                            : ScriptedKernels.get().linearBf16(leaves[0], leaves[1], leaves[2], true);
                    gc.backward(y.sub(target).square().sum()); // a loss whose gradient depends on y
                }
                grads[path] = new NDArray[] {leaves[0].getGradient(), leaves[1].getGradient(), leaves[2].getGradient()};
            }
            for (int i = 0; i < 3; i++) {
                assertClose(grads[0][i], grads[1][i], 0.03);
            }
        }
    }

    @Test
    void linearLayersFollowTheProcessPrecision() {
        try (NDManager m = NDManager.newBaseManager()) {
            ParameterStore store = new ParameterStore(m);
            Linear l = new Linear(store, "dense", 32, 16, true, 0.2);
            store.initializeMissing(11);
            NDArray x = m.randomNormal(0, 1, new Shape(4, 32), DataType.FLOAT32);
            NDArray fp32 = l.forward(x, false);
            Precision.force(Precision.BF16);
            assertClose(fp32, l.forward(x, false), 0.02);
            Precision.force(Precision.FP32);
            assertEquals(0f, l.forward(x, false).sub(fp32).abs().max().getFloat());
        }
    }

    @Test
    void bf16IsGrantedOnlyWithNativeSupportAndAPassingSelfCheck() {
        Set<String> avx512bf16 = Set.of("avx2", "avx512f", "avx512_bf16");
        assertNull(Precision.bf16Verdict(false, avx512bf16, () -> null));
        assertNull(Precision.bf16Verdict(false, Set.of("amx_bf16"), () -> null));
        String noBf16 = Precision.bf16Verdict(false, Set.of("avx2", "fma", "avx512f"), () -> null);
        assertTrue(noBf16.contains("AVX-512 BF16") && noBf16.contains("fp32 used"), noBf16);
        assertTrue(Precision.bf16Verdict(true, avx512bf16, () -> null).contains("GPU"));
        assertEquals("broken", Precision.bf16Verdict(false, avx512bf16, () -> "broken"));
        // this process: the real self-check passes wherever the kernels load
        assertNull(Precision.selfCheck());
    }

    @Test
    void useFallsBackToFp32AndSaysWhyWhereBf16IsNotNative() {
        Precision.Choice c = Precision.use(Precision.BF16);
        String verdict = Precision.bf16Unsupported();
        if (verdict == null) {
            assertEquals(new Precision.Choice(Precision.BF16, null), c);
        } else {
            assertEquals(Precision.FP32, c.used());
            assertEquals(verdict, c.fallback());
        }
        assertEquals(c.used(), Precision.current());
        assertEquals(new Precision.Choice(Precision.FP32, null), Precision.use(Precision.FP32));
        assertEquals(Precision.FP32, Precision.current());
    }

    @Test
    void parseNamesTheValidChoices() {
        assertEquals(Precision.BF16, Precision.parse("BF16"));
        assertEquals(Precision.FP32, Precision.parse("float32"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertTrue(e.getMessage().contains("fp32 or bf16"), e.getMessage());
        assertNotNull(ScriptedKernels.archive());
    }
}
