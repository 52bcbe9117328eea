package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
    static final class ReferenceAdamW {
        double p;
        double m;
        double v;
        int t;

        ReferenceAdamW(double p) {
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

    @Test
    void adamWMatchesTorchsUpdateWithDecayAndClipping() {
        try (NDManager root = NDManager.newBaseManager(); ParameterStore store = new ParameterStore(root)) {
            Param w = store.register("dense.weight", new Shape(3), Init.ZEROS);
            Param b = store.register("dense.bias", new Shape(3), Init.ZEROS);
            store.set("dense.weight", HostTensor.ofFloats(new float[] {0.5f, -1f, 2f}, 3));
            store.set("dense.bias", HostTensor.ofFloats(new float[] {0.1f, 0.2f, -0.3f}, 3));
            w.array().setRequiresGradient(true);
            b.array().setRequiresGradient(true);
            AdamW opt = new AdamW(List.of(w, b), AdamW::decaysByDefault, AdamW.Settings.defaults(0.01), root);
            ReferenceAdamW[] ref = new ReferenceAdamW[6];
            float[] w0 = w.array().toFloatArray();
            float[] b0 = b.array().toFloatArray();
            for (int i = 0; i < 3; i++) {
                ref[i] = new ReferenceAdamW(w0[i]);
                ref[i + 3] = new ReferenceAdamW(b0[i]);
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
                try (NDManager scratch = root.newSubManager()) {
                    assertArrayEquals(new float[3], grad(w, scratch), "gradients zeroed after the step");
                }
            }
            // Optimizer state round-trips.
            var state = opt.state();
            AdamW copy = new AdamW(List.of(w, b), AdamW::decaysByDefault, AdamW.Settings.defaults(0.01), root);
            copy.restore(state, opt.stepCount());
            state.forEach((k, v) -> assertTrue(v.sameAs(copy.state().get(k)), k));
            assertEquals(5, copy.stepCount());
            // Nothing per step is left in the parameters' long-lived memory.
            assertEquals(arraysBefore, ((ai.djl.ndarray.BaseNDManager) store.manager()).getManagedArrays().size());
            opt.close();
            copy.close();
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
