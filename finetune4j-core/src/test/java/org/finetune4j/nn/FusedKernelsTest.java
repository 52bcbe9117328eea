package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fused CPU kernels against PyTorch through DJL: each forward against the op chain it replaces, each
 * backward against autograd's gradients of sum(out · upstream) for a random upstream, on a BERT-small layer's
 * shapes (16 sequences of 37 tokens, H 384, I 1536, 12 heads, some padding keys), with dropout masks.
 *
 * <p>Max abs errors measured (the test prints them): LayerNorm sum 4.8e-7, out 9.5e-7, dSum 9.5e-7, dY 1.2e-6;
 * dGamma 7.6e-6 and dBeta 0 against float64 autograd (PyTorch's own float32 dGamma and dBeta are 5e-5 and
 * 7e-5 off there: sums over 592 rows of magnitude ~40); gelu 1.4e-6, its gradient 9.5e-7; gelu_new 4.8e-7,
 * its gradient 2.0e-6 (values up to ~8, where a float ulp is 9.5e-7); softmax probs 3e-8, dropped 3e-8,
 * dScores 1.1e-8.
 */
class FusedKernelsTest {
    static final float TOL = 1e-5f;
    static final int B = 16;
    static final int T = 37;
    static final int N = B * T;
    static final int H = 384;
    static final int I = 1536;
    static final int NH = 12;
    static final float EPS = 1e-12f;
    static final float P = 0.1f;
    static final float KEEP = 1 / (1 - P);

    static NDManager manager;

    @BeforeAll
    static void setUp() {
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(FusedKernels.available(), FusedKernels.unavailableReason());
        }
        Assumptions.assumeTrue(FusedKernels.available(), FusedKernels.unavailableReason());
        assertNull(FusedKernels.unavailableReason());
        manager = NDManager.newBaseManager();
        manager.getEngine().setRandomSeed(1234);
    }

    @AfterAll
    static void tearDown() {
        if (manager != null) {
            manager.close();
        }
    }


    // ---- LayerNorm ----------------------------------------------------------------------------------------

    /** Inputs of dropoutResidualLayerNorm and its backward. */
    record LnCase(NDArray y, NDArray mask, NDArray residual, NDArray gamma, NDArray beta, NDArray dOut, NDArray dOutExtra) {
        static LnCase random(NDManager m, boolean withMask) {
            return new LnCase(m.randomNormal(new Shape(N, H)), withMask ? FusedKernelsTest.mask(m, new Shape(N, H)) : null,
                    m.randomNormal(new Shape(N, H)), m.randomNormal(1, 0.2f, new Shape(H), DataType.FLOAT32),
                    m.randomNormal(0, 0.2f, new Shape(H), DataType.FLOAT32), m.randomNormal(new Shape(N, H)),
                    m.randomNormal(new Shape(N, H)));
        }
    }

    /** The kernel's results, as float arrays. */
    record LnResult(float[] sum, float[] mean, float[] rstd, float[] out, float[] dSum, float[] dY, float[] dGamma, float[] dBeta) {}

    static LnResult fusedLayerNorm(NDManager m, LnCase c) {
        NDArray sum = m.create(new Shape(N, H));
        NDArray mean = m.create(new Shape(N));
        NDArray rstd = m.create(new Shape(N));
        NDArray out = m.create(new Shape(N, H));
        FusedKernels.dropoutResidualLayerNorm(c.y, c.mask, KEEP, c.residual, c.gamma, c.beta, EPS, sum, mean, rstd, out);
        NDArray dSum = m.create(new Shape(N, H));
        NDArray dY = m.create(new Shape(N, H));
        NDArray dGamma = m.create(new Shape(H));
        NDArray dBeta = m.create(new Shape(H));
        FusedKernels.dropoutResidualLayerNormBackward(c.dOut, c.dOutExtra, sum, mean, rstd, c.gamma, c.mask, KEEP, dSum, dY,
                dGamma, dBeta);
        return new LnResult(sum.toFloatArray(), mean.toFloatArray(), rstd.toFloatArray(), out.toFloatArray(), dSum.toFloatArray(),
                dY.toFloatArray(), dGamma.toFloatArray(), dBeta.toFloatArray());
    }

    @Test
    void layerNormMatchesTorchForwardAndAutograd() {
        for (boolean withMask : new boolean[] {true, false}) {
            try (NDManager m = manager.newSubManager()) {
                LnCase c = LnCase.random(m, withMask);
                LnResult f = fusedLayerNorm(m, c);

                Autograd f32 = layerNormAutograd(m, c, DataType.FLOAT32);
                // dGamma and dBeta are sums over all 592 rows (|dGamma| ~ 40): PyTorch's float sums are off by
                // up to ~6e-5 there (15 ulp), so they are checked against autograd in float64 (the kernel sums
                // in double); PyTorch's float error is printed alongside.
                Autograd f64 = layerNormAutograd(m, c, DataType.FLOAT64);
                String tag = withMask ? "with mask" : "without mask";
                assertClose(f32.sum, f.sum, TOL, "sum " + tag);
                assertClose(f32.mean, f.mean, TOL, "mean " + tag);
                assertClose(f32.out, f.out, TOL, "out " + tag);
                assertClose(f32.dResidual, f.dSum, TOL, "dSum " + tag);
                assertClose(f32.dY, f.dY, TOL, "dY " + tag);
                assertClose(f64.dGamma, f.dGamma, TOL, "dGamma vs float64 " + tag);
                assertClose(f64.dBeta, f.dBeta, TOL, "dBeta vs float64 " + tag);
                assertClose(f64.dGamma, f32.dGamma, 1, "(torch f32 dGamma vs float64) " + tag);
                assertClose(f64.dBeta, f32.dBeta, 1, "(torch f32 dBeta vs float64) " + tag);
                if (withMask) {
                    float[] mask = toFloats(c.mask);
                    for (int i = 0; i < mask.length; i++) {
                        if (mask[i] == 0) {
                            assertTrue(f.dY[i] == 0f, "a dropped element gets no gradient, at " + i); // 0 or -0
                        }
                    }
                }
            }
        }
    }

    /** PyTorch's results for an LnCase, from autograd on copies of its inputs in {@code type}. */
    record Autograd(float[] sum, float[] mean, float[] out, float[] dY, float[] dResidual, float[] dGamma, float[] dBeta) {}

    static Autograd layerNormAutograd(NDManager m, LnCase c, DataType type) {
        NDArray y = c.y.toType(type, true);
        NDArray residual = c.residual.toType(type, true);
        NDArray gamma = c.gamma.toType(type, true);
        NDArray beta = c.beta.toType(type, true);
        for (NDArray p : List.of(y, residual, gamma, beta)) {
            p.setRequiresGradient(true);
        }
        NDArray sum;
        NDArray out;
        try (GradientCollector gc = m.getEngine().newGradientCollector()) {
            NDArray dropped = c.mask != null ? y.mul(c.mask).mul(Functional.scalar(y, KEEP)) : y; // (n, H)
            sum = dropped.add(residual); // (n, H)
            out = sum.getNDArrayInternal().layerNorm(sum, new Shape(H), gamma, beta, EPS).singletonOrThrow(); // (n, H)
            gc.backward(out.mul(c.dOut.add(c.dOutExtra).toType(type, false)).sum());
        }
        return new Autograd(toFloats(sum), toFloats(sum.mean(new int[] {1})), toFloats(out), toFloats(y.getGradient()),
                toFloats(residual.getGradient()), toFloats(gamma.getGradient()), toFloats(beta.getGradient()));
    }

    @Test
    void layerNormBackwardInPlaceAndWithoutDyGivesTheSameBits() {
        try (NDManager m = manager.newSubManager()) {
            LnCase c = LnCase.random(m, false);
            LnResult ref = fusedLayerNorm(m, c);
            NDArray sum = m.create(new Shape(N, H));
            NDArray mean = m.create(new Shape(B, T)); // any shape of n elements
            NDArray rstd = m.create(new Shape(B, T));
            NDArray out = m.create(new Shape(N, H));
            FusedKernels.dropoutResidualLayerNorm(c.y, null, 123f, c.residual, c.gamma, c.beta, EPS, sum, mean, rstd, out);
            NDArray dOut = c.dOut.duplicate();
            NDArray dGamma = m.create(new Shape(H));
            NDArray dBeta = m.create(new Shape(H));
            FusedKernels.dropoutResidualLayerNormBackward(dOut, c.dOutExtra, sum, mean, rstd, c.gamma, null, 123f, dOut, null, dGamma,
                    dBeta);
            assertArrayEquals(ref.dSum, dOut.toFloatArray(), "dSum written over dOut");
            assertArrayEquals(ref.dSum, ref.dY, "without a mask, dY is dSum");
            assertArrayEquals(ref.dGamma, dGamma.toFloatArray());
            assertArrayEquals(ref.dBeta, dBeta.toFloatArray());
        }
    }

    // ---- GELU ---------------------------------------------------------------------------------------------

    @Test
    void geluMatchesTorchForwardAndAutogradBothForms() {
        for (boolean tanh : new boolean[] {false, true}) {
            try (NDManager m = manager.newSubManager()) {
                // (n, I), spread wider than N(0, 1) to reach both erf branches and the tails
                NDArray u = m.randomNormal(0, 2, new Shape(N, I), DataType.FLOAT32);
                NDArray dOut = m.randomNormal(new Shape(N, I));
                NDArray out = m.create(u.getShape());
                FusedKernels.gelu(u, out, tanh);
                NDArray dU = m.create(u.getShape());
                FusedKernels.geluBackward(dOut, u, dU, tanh);

                NDArray x = u.duplicate();
                x.setRequiresGradient(true);
                NDArray ref;
                try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                    ref = tanh ? Functional.activation("gelu_new", x) : Activation.gelu(x); // (n, I)
                    gc.backward(ref.mul(dOut).sum());
                }
                String tag = tanh ? "gelu_new" : "gelu";
                assertClose(ref.toFloatArray(), out.toFloatArray(), TOL, tag);
                assertClose(x.getGradient().toFloatArray(), dU.toFloatArray(), TOL, tag + " backward");

                FusedKernels.geluBackward(dOut, u, dOut, tanh); // in place over dOut
                assertArrayEquals(dU.toFloatArray(), dOut.toFloatArray(), tag + " backward in place");
            }
        }
    }

    // ---- attention probabilities --------------------------------------------------------------------------

    /** (b, Tk) key mask: sequence i has its last 3 i mod 11 keys padded; sequence 0 has none. */
    static NDArray keyMask(NDManager m, int b, int tk) {
        byte[] bytes = new byte[b * tk];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < tk; j++) {
                bytes[i * tk + j] = (byte) (j < tk - 3 * (i % 11) ? 1 : 0);
            }
        }
        return m.create(java.nio.ByteBuffer.wrap(bytes), new Shape(b, tk), DataType.UINT8);
    }

    @Test
    void maskedSoftmaxDropoutMatchesTorchForwardAndAutograd() {
        for (boolean withDropout : new boolean[] {true, false}) {
            try (NDManager m = manager.newSubManager()) {
                int b = 3;
                Shape shape = new Shape(b, NH, T, T);
                float scale = (float) (1 / Math.sqrt(H / NH));
                NDArray scores = m.randomNormal(0, 3, shape, DataType.FLOAT32); // (b, nh, T, T)
                NDArray km = keyMask(m, b, T); // (b, T)
                NDArray dropMask = withDropout ? mask(m, shape) : null;
                NDArray up = m.randomNormal(shape);
                NDArray probs = m.create(shape);
                NDArray dropped = withDropout ? m.create(shape) : null;
                FusedKernels.maskedSoftmaxDropout(scores, scale, km, dropMask, KEEP, probs, dropped);
                NDArray dScores = m.create(shape);
                FusedKernels.maskedSoftmaxDropoutBackward(up, probs, dropMask, KEEP, scale, dScores);

                NDArray s = scores.duplicate();
                s.setRequiresGradient(true);
                // transformers' additive mask: 0 where attended, the most negative float where padded (Attention)
                NDArray additive = km.toType(DataType.FLOAT32, false).neg().add(1f).mul(-Float.MAX_VALUE).reshape(b, 1, 1, T);
                NDArray refProbs;
                NDArray refDropped;
                try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                    refProbs = s.mul(Functional.scalar(s, scale)).add(additive).softmax(-1); // (b, nh, T, T)
                    refDropped = withDropout ? refProbs.mul(dropMask).mul(Functional.scalar(s, KEEP)) : refProbs;
                    gc.backward(refDropped.mul(up).sum());
                }
                String tag = withDropout ? "with dropout" : "without dropout";
                assertClose(refProbs.toFloatArray(), probs.toFloatArray(), TOL, "probs " + tag);
                if (withDropout) {
                    assertClose(refDropped.toFloatArray(), dropped.toFloatArray(), TOL, "dropped " + tag);
                }
                assertClose(s.getGradient().toFloatArray(), dScores.toFloatArray(), TOL, "dScores " + tag);

                float[] p = probs.toFloatArray();
                float[] keys = toFloats(km);
                int padded = 0;
                for (int i = 0; i < p.length; i++) {
                    int item = i / (NH * T * T);
                    int key = i % T;
                    if (keys[item * T + key] == 0) {
                        assertEquals(0f, p[i], "a padding key gets probability exactly 0, at " + i);
                        padded++;
                    }
                }
                assertTrue(padded > 0);
            }
        }
    }

    @Test
    void softmaxInPlaceGivesTheSameBits() {
        try (NDManager m = manager.newSubManager()) {
            Shape shape = new Shape(2, NH, T, T);
            float scale = 0.125f;
            NDArray scores = m.randomNormal(0, 3, shape, DataType.FLOAT32);
            NDArray km = keyMask(m, 2, T);
            NDArray dropMask = mask(m, shape);
            NDArray up = m.randomNormal(shape);
            NDArray probs = m.create(shape);
            NDArray dropped = m.create(shape);
            FusedKernels.maskedSoftmaxDropout(scores, scale, km, dropMask, KEEP, probs, dropped);
            NDArray dScores = m.create(shape);
            FusedKernels.maskedSoftmaxDropoutBackward(up, probs, dropMask, KEEP, scale, dScores);

            NDArray inPlace = scores.duplicate();
            NDArray dropped2 = m.create(shape);
            FusedKernels.maskedSoftmaxDropout(inPlace, scale, km, dropMask, KEEP, inPlace, dropped2);
            assertArrayEquals(probs.toFloatArray(), inPlace.toFloatArray(), "probs written over scores");
            assertArrayEquals(dropped.toFloatArray(), dropped2.toFloatArray());
            NDArray upInPlace = up.duplicate();
            FusedKernels.maskedSoftmaxDropoutBackward(upInPlace, probs, dropMask, KEEP, scale, upInPlace);
            assertArrayEquals(dScores.toFloatArray(), upInPlace.toFloatArray(), "dScores written over dDropped");

            NDArray copy = m.create(shape);
            FusedKernels.maskedSoftmaxDropout(scores, scale, null, null, KEEP, probs, copy);
            assertArrayEquals(probs.toFloatArray(), copy.toFloatArray(), "without a drop mask, dropped is probs");
        }
    }

    @Test
    void aRowWithNoAttendedKeyIsUniformAsTheAdditiveMaskGives() {
        try (NDManager m = manager.newSubManager()) {
            NDArray scores = m.randomNormal(new Shape(1, 2, 3, 5));
            NDArray km = m.zeros(new Shape(1, 5), DataType.UINT8);
            NDArray probs = m.create(scores.getShape());
            FusedKernels.maskedSoftmaxDropout(scores, 1f, km, null, 1f, probs, null);
            NDArray ref = scores.add(m.full(new Shape(1, 1, 1, 5), -Float.MAX_VALUE)).softmax(-1);
            assertArrayEquals(ref.toFloatArray(), probs.toFloatArray());
        }
    }

    // ---- threads, errors, availability --------------------------------------------------------------------

    @Test
    void oneAndTwoWorkersGiveTheSameBits() {
        try (NDManager m = manager.newSubManager()) {
            LnCase c = LnCase.random(m, true);
            NDArray u = m.randomNormal(new Shape(N, I));
            Shape shape = new Shape(B, NH, T, T);
            NDArray scores = m.randomNormal(shape);
            NDArray km = keyMask(m, B, T);
            NDArray dropMask = mask(m, shape);
            NDArray up = m.randomNormal(shape);
            Callable<List<float[]>> all = () -> {
                try (NDManager s = m.newSubManager()) {
                    LnResult ln = fusedLayerNorm(s, c);
                    NDArray g = s.create(u.getShape());
                    FusedKernels.gelu(u, g, false);
                    NDArray gt = s.create(u.getShape());
                    FusedKernels.geluBackward(u, u, gt, true);
                    NDArray probs = s.create(shape);
                    NDArray dropped = s.create(shape);
                    FusedKernels.maskedSoftmaxDropout(scores, 0.125f, km, dropMask, KEEP, probs, dropped);
                    NDArray dScores = s.create(shape);
                    FusedKernels.maskedSoftmaxDropoutBackward(up, probs, dropMask, KEEP, 0.125f, dScores);
                    return List.of(ln.sum, ln.mean, ln.rstd, ln.out, ln.dSum, ln.dY, ln.dGamma, ln.dBeta, g.toFloatArray(),
                            gt.toFloatArray(), dropped.toFloatArray(), dScores.toFloatArray());
                }
            };
            int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
            try {
                ai.djl.pytorch.jni.JniUtils.setNumThreads(1); // libtorch's OpenMP threads, which the kernels split over
                List<float[]> one = all.call();
                ai.djl.pytorch.jni.JniUtils.setNumThreads(2);
                List<float[]> two = all.call();
                for (int i = 0; i < one.size(); i++) {
                    assertArrayEquals(one.get(i), two.get(i), "output " + i);
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            } finally {
                ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
            }
        }
    }

    @Test
    void wrongArraysAreRejectedWithWhatIsWrong() {
        try (NDManager m = manager.newSubManager()) {
            NDArray x = m.randomNormal(new Shape(4, 8));
            NDArray g = m.ones(new Shape(8));
            NDArray row = m.create(new Shape(4));
            NDArray o = m.create(new Shape(4, 8));
            NDArray floatMask = m.ones(new Shape(4, 8));
            assertMessage("mask is float32, needs uint8", () -> FusedKernels.dropoutResidualLayerNorm(x, floatMask, 1f, x, g, g, EPS,
                    o, row, row, o));
            assertMessage("residual has shape (4, 7), needs (4, 8)", () -> FusedKernels.dropoutResidualLayerNorm(x, null, 1f,
                    m.create(new Shape(4, 7)), g, g, EPS, o, row, row, o));
            assertMessage("gamma has shape (4), needs (8)", () -> FusedKernels.dropoutResidualLayerNorm(x, null, 1f, x, row, g, EPS,
                    o, row, row, o));
            assertMessage("mean has shape (5) (5 elements), needs 4 elements", () -> FusedKernels.dropoutResidualLayerNorm(x, null,
                    1f, x, g, g, EPS, o, m.create(new Shape(5)), row, o));
            assertMessage("residual is null", () -> FusedKernels.dropoutResidualLayerNorm(x, null, 1f, null, g, g, EPS, o, row,
                    row, o));
            assertMessage("dY is null but mask is not", () -> FusedKernels.dropoutResidualLayerNormBackward(x, null, x, row, row, g,
                    m.ones(new Shape(4, 8), DataType.UINT8), 1f, o, null, g, g));
            NDArray transposed = m.randomNormal(new Shape(8, 4)).transpose(); // (4, 8) view, not contiguous
            assertMessage("out is not contiguous", () -> FusedKernels.gelu(x, transposed, false));
            assertMessage("u is float64, needs float32", () -> FusedKernels.gelu(x.toType(DataType.FLOAT64, false), o, false));
            assertMessage("scores must be (b, nh, Tq, Tk), got shape (4, 8)", () -> FusedKernels.maskedSoftmaxDropout(x, 1f, null,
                    null, 1f, o, null));
            NDArray s4 = m.randomNormal(new Shape(2, 1, 3, 3));
            assertMessage("keyMask has shape (2, 4), needs (2, 3)", () -> FusedKernels.maskedSoftmaxDropout(s4, 1f,
                    m.ones(new Shape(2, 4), DataType.UINT8), null, 1f, s4, null));
            assertMessage("dropped is null but dropMask is not", () -> FusedKernels.maskedSoftmaxDropout(s4, 1f, null,
                    m.ones(s4.getShape(), DataType.UINT8), 1f, s4, null));
        }
    }

    @Test
    void withoutACompilerTheKernelsAreUnavailableWithTheReason(@TempDir Path dir) {
        FusedKernels.Loader missing = new FusedKernels.Loader(dir.resolve("no-such-cc").toString(), dir);
        assertFalse(missing.available());
        assertTrue(missing.unavailableReason().contains("no C compiler: could not run '" + dir.resolve("no-such-cc")),
                missing.unavailableReason());
    }

    @Test
    void aFailedCompileIsUnavailableWithTheBuildLog(@TempDir Path dir) throws Exception {
        Path cc = dir.resolve("broken-cc");
        Files.writeString(cc, "#!/bin/sh\nif [ \"$1\" = --version ]; then echo broken-cc 1.0; exit 0; fi\n"
                + "echo 'broken-cc: error: nothing compiles here' >&2\nexit 3\n");
        assertTrue(cc.toFile().setExecutable(true));
        FusedKernels.Loader broken = new FusedKernels.Loader(cc.toString(), dir.resolve("cache"));
        assertFalse(broken.available());
        String reason = broken.unavailableReason();
        assertTrue(reason.contains("exited with 3") && reason.contains("build.log"), reason);
        Path log = Path.of(reason.substring(reason.indexOf("is in ") + "is in ".length()));
        assertTrue(Files.readString(log).contains("nothing compiles here"), log.toString());
        assertEquals(List.of("build.log"), listing(log.getParent()), "no temporary files left behind");
    }

    @Test
    void twoLoadersCompilingIntoOneCacheAtOnceBothSucceed(@TempDir Path dir) throws Exception {
        ExecutorService two = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> results = two.invokeAll(List.of(
                    () -> new FusedKernels.Loader("cc", dir).unavailableReason(),
                    () -> new FusedKernels.Loader("cc", dir).unavailableReason()));
            for (Future<String> r : results) {
                assertNull(r.get());
            }
        } finally {
            two.shutdownNow();
        }
        try (Stream<Path> keys = Files.list(dir.resolve("native"))) {
            List<Path> dirs = keys.toList();
            assertEquals(1, dirs.size(), dirs.toString());
            assertEquals(List.of("build.log", "fused_kernels.c", "libfinetune4j-fused.so"), listing(dirs.get(0)));
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------

    /** A dropout keep-mask (UINT8, 1 with probability 1 - P). */
    static NDArray mask(NDManager m, Shape shape) {
        return m.randomUniform(0, 1, shape).gte(P).toType(DataType.UINT8, false);
    }

    static float[] toFloats(NDArray a) {
        return a.toType(DataType.FLOAT32, false).toFloatArray();
    }

    static List<String> listing(Path dir) throws java.io.IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static void assertMessage(String expected, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    /** Asserts max |expected - actual| <= tol and prints it (the class comment records the measured values). */
    static void assertClose(float[] expected, float[] actual, float tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double max = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= max)) {
                max = d;
                at = i;
            }
        }
        System.out.printf(Locale.ROOT, "FusedKernelsTest %-28s max abs error %.2e%n", what, max);
        assertTrue(max <= tol, String.format(Locale.ROOT, "%s: max abs error %.3g at %d (expected %g, got %g) > %g", what, max, at,
                at >= 0 ? expected[at] : Float.NaN, at >= 0 ? actual[at] : Float.NaN, tol));
    }
}
