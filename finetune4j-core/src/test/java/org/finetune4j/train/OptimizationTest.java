package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.finetune4j.io.HostTensor;
import org.finetune4j.nn.Init;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.ParameterStore;
import org.junit.jupiter.api.Test;

class OptimizationTest {

    /** torch.optim.AdamW's update for one scalar parameter, in double precision. */
    static final class ScalarAdamW {
        double p;
        double m;
        double v;
        int t;

        ScalarAdamW(double p) {
            this.p = p;
        }

        void step(double g, double lr, double wd) {
            t++;
            p *= 1 - lr * wd;
            m = 0.9 * m + 0.1 * g;
            v = 0.999 * v + 0.001 * g * g;
            double bc1 = 1 - Math.pow(0.9, t);
            double bc2 = 1 - Math.pow(0.999, t);
            p -= lr / bc1 * m / (Math.sqrt(v) / Math.sqrt(bc2) + 1e-8);
        }
    }

    /** Both updates: the fused CPU loop and the tensor ops an accelerator runs (here on CPU arrays). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void adamWMatchesTorchsUpdateWithDecayAndClipping(boolean onCpu) {
        try (NDManager root = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(root)) {
            Param w = store.register("dense.weight", new Shape(3), Init.ZEROS);
            Param b = store.register("dense.bias", new Shape(3), Init.ZEROS);
            store.set("dense.weight", HostTensor.ofFloats(new float[] {0.5f, -1f, 2f}, 3));
            store.set("dense.bias", HostTensor.ofFloats(new float[] {0.1f, 0.2f, -0.3f}, 3));
            w.array().setRequiresGradient(true);
            b.array().setRequiresGradient(true);
            AdamW opt = new AdamW(List.of(w, b), AdamW::decaysByDefault, k -> 1.0, AdamW.Settings.defaults(0.01), root,
                    onCpu ? new CpuUpdate() : new TensorOpUpdate());
            ScalarAdamW[] ref = new ScalarAdamW[6];
            float[] w0 = w.array().toFloatArray();
            float[] b0 = b.array().toFloatArray();
            for (int i = 0; i < 3; i++) {
                ref[i] = new ScalarAdamW(w0[i]);
                ref[i + 3] = new ScalarAdamW(b0[i]);
            }
            int arraysBefore = ((ai.djl.ndarray.BaseNDManager) store.manager()).getManagedArrays().size();
            for (int step = 0; step < 5; step++) {
                try (NDManager scratch = root.newSubManager()) {
                    NDArray x = scratch.create(new float[] {1f, 2f, 3f});
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        // loss = sum((w * x + b)^2 * (step + 1)): gradients grow so clipping engages.
                        NDArray y = x.mul(w.array()).add(b.array());
                        gc.backward(y.square().sum().mul(step + 1));
                    }
                    float[] gw = grad(w, scratch);
                    float[] gb = grad(b, scratch);
                    double norm = opt.gradNorm(scratch);
                    double expectedNorm = 0;
                    for (int i = 0; i < 3; i++) {
                        expectedNorm += gw[i] * gw[i] + gb[i] * gb[i];
                    }
                    assertEquals(Math.sqrt(expectedNorm), norm, 1e-3 * norm);
                    double clip = Math.min(1.0, 1.0 / (norm + 1e-6));
                    double lr = 0.1 * (step + 1);
                    opt.step(lr, clip, scratch);
                    for (int i = 0; i < 3; i++) {
                        ref[i].step(gw[i] * clip, lr, 0.01);
                        ref[i + 3].step(gb[i] * clip, lr, 0.0); // biases: no decay
                    }
                }
                float[] wn = w.array().toFloatArray();
                float[] bn = b.array().toFloatArray();
                for (int i = 0; i < 3; i++) {
                    assertEquals(ref[i].p, wn[i], 1e-5, "weight " + i + " at step " + step);
                    assertEquals(ref[i + 3].p, bn[i], 1e-5, "bias " + i + " at step " + step);
                }
                assertFalse(hasGradientTensor(w), "the weight's gradient dropped after the step (set_to_none)");
                assertFalse(hasGradientTensor(b), "the bias's gradient dropped after the step");
                assertTrue(w.array().hasGradient() && b.array().hasGradient(), "still parameters that take a gradient");
            }
            // Optimizer state round-trips.
            var state = opt.state();
            AdamW copy = new AdamW(List.of(w, b), AdamW::decaysByDefault, AdamW.Settings.defaults(0.01), root);
            copy.restore(state, opt.stepCount());
            state.forEach((k, v) -> assertTrue(v.sameAs(copy.state().get(k)), k));
            assertEquals(5, copy.stepCount());
            // Nothing per step is left in the parameters' long-lived memory (no gradient handles either).
            assertEquals(arraysBefore, ((ai.djl.ndarray.BaseNDManager) store.manager()).getManagedArrays().size());
            opt.close();
            copy.close();
        }
    }

    @Test
    void adamWOnLargeParametersSplitAcrossThreadsMatchesTheReference() {
        // 300,000 + 50,001 elements: the fused CPU step splits them across workers mid-parameter.
        try (NDManager root = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(root)) {
            Param w = store.register("big.weight", new Shape(600, 500), Init.ZEROS);
            Param b = store.register("big.bias", new Shape(50_001), Init.ZEROS);
            java.util.Random rnd = new java.util.Random(7);
            float[] w0 = new float[300_000];
            float[] b0 = new float[50_001];
            for (int i = 0; i < w0.length; i++) {
                w0[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < b0.length; i++) {
                b0[i] = (float) rnd.nextGaussian();
            }
            store.set("big.weight", HostTensor.ofFloats(w0, 600, 500));
            store.set("big.bias", HostTensor.ofFloats(b0, 50_001));
            w.array().setRequiresGradient(true);
            b.array().setRequiresGradient(true);
            try (AdamW opt = new AdamW(List.of(w, b), AdamW::decaysByDefault, AdamW.Settings.defaults(0.1), root)) {
                double[] pw = new double[w0.length];
                double[] mw = new double[w0.length];
                double[] vw = new double[w0.length];
                double[] pb = new double[b0.length];
                double[] mb = new double[b0.length];
                double[] vb = new double[b0.length];
                for (int i = 0; i < pw.length; i++) {
                    pw[i] = w0[i];
                }
                for (int i = 0; i < pb.length; i++) {
                    pb[i] = b0[i];
                }
                for (int t = 1; t <= 3; t++) {
                    float[] gw;
                    float[] gb;
                    try (NDManager scratch = root.newSubManager()) {
                        float[] wBefore = w.array().toFloatArray();
                        float[] bBefore = b.array().toFloatArray();
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            // loss = sum(w^3) / 3 + sum(b^2) * t: gradients w^2 and 2 t b.
                            gc.backward(w.array().pow(3).sum().div(3).add(b.array().square().sum().mul(t)));
                        }
                        gw = grad(w, scratch);
                        gb = grad(b, scratch);
                        // This step's gradients alone: nothing of the last step's was added to them.
                        for (int i = 0; i < gw.length; i++) {
                            assertEquals(wBefore[i] * wBefore[i], gw[i], 1e-6 * wBefore[i] * wBefore[i], "weight gradient " + i + " at step " + t);
                        }
                        for (int i = 0; i < gb.length; i++) {
                            assertEquals(2f * t * bBefore[i], gb[i], 1e-6 * Math.abs(2f * t * bBefore[i]), "bias gradient " + i + " at step " + t);
                        }
                        // The global norm over both parameters (per-parameter norms in float, combined in double).
                        double squares = 0;
                        for (float g : gw) {
                            squares += (double) g * g;
                        }
                        for (float g : gb) {
                            squares += (double) g * g;
                        }
                        assertEquals(Math.sqrt(squares), opt.gradNorm(scratch), 1e-5 * Math.sqrt(squares), "gradient norm at step " + t);
                        opt.step(1e-2, 0.5, scratch);
                    }
                    double bc1 = 1 - Math.pow(0.9, t);
                    double bc2 = 1 - Math.pow(0.999, t);
                    for (int i = 0; i < pw.length; i++) {
                        double g = gw[i] * 0.5;
                        pw[i] *= 1 - 1e-2 * 0.1;
                        mw[i] = 0.9 * mw[i] + 0.1 * g;
                        vw[i] = 0.999 * vw[i] + 0.001 * g * g;
                        pw[i] -= 1e-2 / bc1 * mw[i] / (Math.sqrt(vw[i]) / Math.sqrt(bc2) + 1e-8);
                    }
                    for (int i = 0; i < pb.length; i++) {
                        double g = gb[i] * 0.5;
                        mb[i] = 0.9 * mb[i] + 0.1 * g;
                        vb[i] = 0.999 * vb[i] + 0.001 * g * g;
                        pb[i] -= 1e-2 / bc1 * mb[i] / (Math.sqrt(vb[i]) / Math.sqrt(bc2) + 1e-8);
                    }
                    float[] wn = w.array().toFloatArray();
                    float[] bn = b.array().toFloatArray();
                    for (int i = 0; i < wn.length; i++) {
                        assertEquals(pw[i], wn[i], 1e-5 * Math.max(1, Math.abs(pw[i])), "weight " + i + " at step " + t);
                    }
                    for (int i = 0; i < bn.length; i++) {
                        assertEquals(pb[i], bn[i], 1e-5 * Math.max(1, Math.abs(pb[i])), "bias " + i + " at step " + t);
                    }
                    // Dropped, so the next step's gradients are that step's alone (checked by the reference).
                    assertFalse(hasGradientTensor(w), "weight gradient dropped");
                    assertFalse(hasGradientTensor(b), "bias gradient dropped");
                }
            }
        }
    }

    /**
     * Gradient accumulation: micro-batches' gradients add up until the update, which drops them, so the
     * next group starts from its own gradients alone.
     */
    @Test
    void microBatchGradientsAddUpUntilTheUpdateDropsThem() {
        try (NDManager root = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(root)) {
            Param w = store.register("dense.weight", new Shape(3), Init.ZEROS);
            store.set("dense.weight", HostTensor.ofFloats(new float[] {0.5f, -1f, 2f}, 3));
            w.array().setRequiresGradient(true);
            try (AdamW opt = new AdamW(List.of(w), AdamW::decaysByDefault, AdamW.Settings.defaults(0.0), root)) {
                float[][] xs = {{1f, 2f, 3f}, {0.25f, -4f, 8f}, {-3f, 0.5f, 1.5f}};
                try (NDManager scratch = root.newSubManager()) {
                    for (int k = 0; k < 2; k++) { // two micro-batches: loss_k = sum(w * x_k)
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            gc.backward(w.array().mul(scratch.create(xs[k])).sum());
                        }
                    }
                    assertArrayEquals(new float[] {1.25f, -2f, 11f}, grad(w, scratch), "the sum of both micro-batches");
                    opt.step(1e-3, 1.0, scratch);
                    assertFalse(hasGradientTensor(w));
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        gc.backward(w.array().mul(scratch.create(xs[2])).sum());
                    }
                    assertArrayEquals(xs[2], grad(w, scratch), "the next group's gradient alone");
                }
            }
        }
    }

    /** Whether PyTorch holds a gradient for the parameter (DJL's getGradient would make zeros when not). */
    private static boolean hasGradientTensor(Param p) {
        try (ai.djl.pytorch.engine.PtNDArray g = ai.djl.pytorch.jni.JniUtils.getGradient((ai.djl.pytorch.engine.PtNDArray) p.array())) {
            return g != null;
        }
    }

    private static float[] grad(Param p, NDManager scratch) {
        NDArray g = p.array().getGradient();
        g.attach(scratch);
        return g.toFloatArray();
    }

    @Test
    void scheduleValuesAtFixedSteps() {
        LrSchedule linear = new LrSchedule("linear", 10, 110);
        assertEquals(0.0, linear.multiplier(0));
        assertEquals(0.5, linear.multiplier(5), 1e-12);
        assertEquals(1.0, linear.multiplier(10), 1e-12);
        assertEquals(0.5, linear.multiplier(60), 1e-12);
        assertEquals(0.0, linear.multiplier(110), 1e-12);
        LrSchedule cosine = new LrSchedule("cosine", 10, 110);
        assertEquals(1.0, cosine.multiplier(10), 1e-12);
        assertEquals(0.5, cosine.multiplier(60), 1e-12);
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.25)), cosine.multiplier(35), 1e-12);
        assertEquals(1.0, new LrSchedule("constant", 10, 110).multiplier(3));
        assertEquals(0.3, new LrSchedule("constant_with_warmup", 10, 110).multiplier(3), 1e-12);
        assertEquals(1.0, new LrSchedule("linear", 0, 100).multiplier(0), "no warmup: full rate at once");
        assertEquals(14, LrSchedule.warmupFromRatio(0.1, 131), "ceil, as the Trainer rounds");
    }

    @Test
    void crossEntropyWithWeightsAndSmoothingMatchesTorch() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[][] logits = {{1f, 2f, 0.5f}, {0.2f, -1f, 3f}};
            long[] y = {1, 0};
            float[] w = {2f, 1f, 0.5f};
            double eps = 0.1;
            NDArray l = m.create(new float[] {1f, 2f, 0.5f, 0.2f, -1f, 3f}, new Shape(2, 3));
            NDArray t = m.create(y);
            // By hand: per sample (1-eps)(-w[y] log p[y]) + eps/C sum_c(-w[c] log p[c]); divide by sum w[y].
            double num = 0;
            double den = 0;
            double plain = 0;
            for (int i = 0; i < 2; i++) {
                double lse = Math.log(Math.exp(logits[i][0]) + Math.exp(logits[i][1]) + Math.exp(logits[i][2]));
                double[] logp = {logits[i][0] - lse, logits[i][1] - lse, logits[i][2] - lse};
                double smooth = 0;
                for (int c = 0; c < 3; c++) {
                    smooth += -w[c] * logp[c];
                }
                num += (1 - eps) * (-w[(int) y[i]] * logp[(int) y[i]]) + eps / 3 * smooth;
                den += w[(int) y[i]];
                plain += -logp[(int) y[i]];
            }
            assertEquals(num / den, Losses.crossEntropy(l, t, w, eps).getFloat(), 1e-6);
            assertEquals(plain / 2, Losses.crossEntropy(l, t, null, 0).getFloat(), 1e-6);
        }
    }

    @Test
    void bceWithLogitsIsStableAndCorrect() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {2f, -1f, 100f, -100f}, new Shape(2, 2));
            NDArray t = m.create(new float[] {1f, 0f, 0f, 1f}, new Shape(2, 2));
            double expected = (Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(-1)) + 100 + 100) / 4;
            assertEquals(expected, Losses.binaryCrossEntropyWithLogits(x, t).getFloat(), 1e-5);
        }
    }

    @Test
    void balancedWeightsAreScikitLearns() {
        // compute_class_weight("balanced", classes=[0,1], y=[0,0,0,1]) = [4/(2*3), 4/(2*1)]
        assertArrayEquals(new float[] {4f / 6, 2f}, Losses.balancedWeights(new int[] {0, 0, 0, 1}, 2), 1e-7f);
    }
}
