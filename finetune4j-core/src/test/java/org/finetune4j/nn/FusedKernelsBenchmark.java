package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.Locale;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Each fused kernel's time against the libtorch work it replaces, on one BERT-small layer's shapes of a
 * batch of 16 x 34 tokens (n 544, H 384, I 1536, scores (16, 12, 34, 34)): forward against the op chain
 * without autograd, backward against autograd's backward of that chain (upstream gradient through
 * sum(out · up), whose own mul/sum backward is timed alone as "upstream only"), and against the backward
 * formulas written as plain tensor ops. Prints microseconds per call, median over repeats, with the range.
 * Not part of the test suite:
 * <pre>
 * mvn -B -o -pl finetune4j-core -am test -Dgroups=benchmark -DexcludedGroups=none -Dtest=FusedKernelsBenchmark \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@Tag("benchmark")
class FusedKernelsBenchmark {
    static final int N = 16 * 34;
    static final int H = 384;
    static final int I = 1536;
    static final Shape SCORES = new Shape(16, 12, 34, 34);
    static final float KEEP = 1 / 0.9f;
    static final int REPEATS = Integer.getInteger("bench.repeats", 7);
    static final int ITERATIONS = Integer.getInteger("bench.iterations", 40);

    @Test
    void kernelsAgainstTheOpsTheyReplace() {
        Assumptions.assumeTrue(FusedKernels.available(), FusedKernels.unavailableReason());
        try (NDManager m = NDManager.newBaseManager()) { // (loads PyTorch, which workers() asks)
            System.out.printf(Locale.ROOT, "torch intra-op threads %d, cores %d%n",
                    ai.djl.pytorch.jni.JniUtils.getNumThreads(), Runtime.getRuntime().availableProcessors());
            m.getEngine().setRandomSeed(5);
            Shape nh = new Shape(N, H);
            NDArray y = m.randomNormal(nh);
            NDArray residual = m.randomNormal(nh);
            NDArray mask = FusedKernelsTest.mask(m, nh);
            NDArray gamma = m.randomNormal(1, 0.2f, new Shape(H), DataType.FLOAT32);
            NDArray beta = m.randomNormal(0, 0.2f, new Shape(H), DataType.FLOAT32);
            NDArray dOut = m.randomNormal(nh);
            NDArray sum = m.create(nh);
            NDArray mean = m.create(new Shape(N));
            NDArray rstd = m.create(new Shape(N));
            NDArray out = m.create(nh);
            NDArray dSum = m.create(nh);
            NDArray dY = m.create(nh);
            NDArray dGamma = m.create(new Shape(H));
            NDArray dBeta = m.create(new Shape(H));
            float eps = 1e-12f;

            time(m, "LN fwd fused", () -> FusedKernels.dropoutResidualLayerNorm(y, mask, KEEP, residual, gamma, beta, eps, sum, mean,
                    rstd, out));
            time(m, "LN fwd torch ops", () -> {
                NDArray s = y.mul(mask).mul(Functional.scalar(y, KEEP)).add(residual);
                s.getNDArrayInternal().layerNorm(s, new Shape(H), gamma, beta, eps);
            });
            time(m, "LN bwd fused", () -> FusedKernels.dropoutResidualLayerNormBackward(dOut, null, sum, mean, rstd, gamma, mask,
                    KEEP, dSum, dY, dGamma, dBeta));
            time(m, "LN bwd torch ops", () -> {
                NDArray xhat = sum.sub(mean.reshape(N, 1)).mul(rstd.reshape(N, 1)); // (n, H)
                dOut.mul(xhat).sum(new int[] {0}); // dGamma
                dOut.sum(new int[] {0}); // dBeta
                NDArray gg = dOut.mul(gamma);
                NDArray a = gg.mean(new int[] {1}, true);
                NDArray c = gg.mul(xhat).mean(new int[] {1}, true);
                NDArray ds = gg.sub(a).sub(xhat.mul(c)).mul(rstd.reshape(N, 1));
                ds.mul(mask).mul(Functional.scalar(ds, KEEP));
            });
            timeBackward(m, "LN bwd autograd", () -> {
                NDArray yy = y.duplicate();
                NDArray rr = residual.duplicate();
                NDArray gm = gamma.duplicate();
                NDArray bt = beta.duplicate();
                for (NDArray p : new NDArray[] {yy, rr, gm, bt}) {
                    p.setRequiresGradient(true);
                }
                return new NDArray[] {yy, rr, gm, bt};
            }, p -> {
                NDArray s = p[0].mul(mask).mul(Functional.scalar(p[0], KEEP)).add(p[1]);
                return s.getNDArrayInternal().layerNorm(s, new Shape(H), p[2], p[3], eps).singletonOrThrow().mul(dOut).sum();
            });
            timeBackward(m, "upstream only (n, H)", () -> {
                NDArray x = y.duplicate();
                x.setRequiresGradient(true);
                return new NDArray[] {x};
            }, p -> p[0].mul(dOut).sum());

            Shape ni = new Shape(N, I);
            NDArray u = m.randomNormal(ni);
            NDArray du = m.randomNormal(ni);
            NDArray g = m.create(ni);
            NDArray dU = m.create(ni);
            for (boolean tanh : new boolean[] {false, true}) {
                String name = tanh ? "gelu_new" : "gelu";
                time(m, name + " fwd fused", () -> FusedKernels.gelu(u, g, tanh));
                time(m, name + " fwd torch", () -> {
                    if (tanh) {
                        Functional.activation("gelu_new", u);
                    } else {
                        Activation.gelu(u);
                    }
                });
                time(m, name + " bwd fused", () -> FusedKernels.geluBackward(du, u, dU, tanh));
                timeBackward(m, name + " bwd autograd", () -> {
                    NDArray x = u.duplicate();
                    x.setRequiresGradient(true);
                    return new NDArray[] {x};
                }, p -> (tanh ? Functional.activation("gelu_new", p[0]) : Activation.gelu(p[0])).mul(du).sum());
            }
            timeBackward(m, "upstream only (n, I)", () -> {
                NDArray x = u.duplicate();
                x.setRequiresGradient(true);
                return new NDArray[] {x};
            }, p -> p[0].mul(du).sum());

            NDArray scores = m.randomNormal(0, 3, SCORES, DataType.FLOAT32);
            NDArray km = FusedKernelsTest.keyMask(m, 16, 34);
            NDArray dropMask = FusedKernelsTest.mask(m, SCORES);
            NDArray up = m.randomNormal(SCORES);
            NDArray probs = m.create(SCORES);
            NDArray dropped = m.create(SCORES);
            NDArray dScores = m.create(SCORES);
            float scale = 0.125f;
            NDArray additive = km.toType(DataType.FLOAT32, false).neg().add(1f).mul(-Float.MAX_VALUE).reshape(16, 1, 1, 34);
            time(m, "softmax fwd fused", () -> FusedKernels.maskedSoftmaxDropout(scores, scale, km, dropMask, KEEP, probs, dropped));
            time(m, "softmax fwd torch ops", () -> scores.mul(Functional.scalar(scores, scale)).add(additive).softmax(-1)
                    .mul(dropMask).mul(Functional.scalar(scores, KEEP)));
            time(m, "softmax bwd fused", () -> FusedKernels.maskedSoftmaxDropoutBackward(up, probs, dropMask, KEEP, scale, dScores));
            time(m, "softmax bwd torch ops", () -> {
                NDArray dp = up.mul(dropMask).mul(Functional.scalar(up, KEEP));
                NDArray dot = dp.mul(probs).sum(new int[] {3}, true);
                probs.mul(dp.sub(dot)).mul(Functional.scalar(up, scale));
            });
            timeBackward(m, "softmax bwd autograd", () -> {
                NDArray x = scores.duplicate();
                x.setRequiresGradient(true);
                return new NDArray[] {x};
            }, p -> p[0].mul(Functional.scalar(p[0], scale)).add(additive).softmax(-1).mul(dropMask)
                    .mul(Functional.scalar(p[0], KEEP)).mul(up).sum());
            timeBackward(m, "upstream only (scores)", () -> {
                NDArray x = scores.duplicate();
                x.setRequiresGradient(true);
                return new NDArray[] {x};
            }, p -> p[0].mul(up).sum());

            // Fixed cost of a call (checks, buffers, JNI) and where a second worker starts to pay.
            NDArray tiny = m.randomNormal(new Shape(16));
            NDArray tinyOut = m.create(new Shape(16));
            time(m, "gelu fused, 16 elements", () -> FusedKernels.gelu(tiny, tinyOut, false));
            for (int size : new int[] {8192, 16384, 32768, 65536, 131072}) {
                NDArray a = m.randomNormal(new Shape(size));
                NDArray b = m.create(new Shape(size));
                int threads = ai.djl.pytorch.jni.JniUtils.getNumThreads();
                for (int w : new int[] {1, 2}) {
                    ai.djl.pytorch.jni.JniUtils.setNumThreads(w);
                    time(m, "gelu fused " + size + " el., threads " + w, () -> FusedKernels.gelu(a, b, false));
                }
                ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
            }
        }
    }

    /** Median and range over repeats of the mean microseconds per call of {@code op}. */
    static void time(NDManager m, String what, Runnable op) {
        double[] us = new double[REPEATS];
        for (int r = -1; r < REPEATS; r++) { // r = -1: warm-up
            try (NDManager scope = m.newSubManager()) {
                long start = System.nanoTime();
                for (int i = 0; i < ITERATIONS; i++) {
                    try (NDManager step = scope.newSubManager()) {
                        op.run();
                    }
                }
                if (r >= 0) {
                    us[r] = (System.nanoTime() - start) / 1e3 / ITERATIONS;
                }
            }
        }
        report(what, us);
    }

    @FunctionalInterface
    interface Graph {
        NDArray build(NDArray[] leaves);
    }

    /** Like {@link #time} for autograd's backward of {@code graph} alone (the forward is recorded untimed). */
    static void timeBackward(NDManager m, String what, Supplier<NDArray[]> leaves, Graph graph) {
        double[] us = new double[REPEATS];
        for (int r = -1; r < REPEATS; r++) {
            long total = 0;
            for (int i = 0; i < ITERATIONS; i++) {
                try (NDManager step = m.newSubManager()) {
                    NDManager outer = step;
                    NDArray[] p = leaves.get();
                    for (NDArray a : p) {
                        a.attach(outer);
                    }
                    try (GradientCollector gc = m.getEngine().newGradientCollector()) {
                        NDArray loss = graph.build(p);
                        long start = System.nanoTime();
                        gc.backward(loss);
                        total += System.nanoTime() - start;
                    }
                }
            }
            if (r >= 0) {
                us[r] = total / 1e3 / ITERATIONS;
            }
        }
        report(what, us);
    }

    static void report(String what, double[] us) {
        double[] s = us.clone();
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-34s %9.1f us  (range %.1f - %.1f over %d x %d calls)%n", what, s[s.length / 2], s[0],
                s[s.length - 1], REPEATS, ITERATIONS);
    }
}
