package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.finetune4j.nn.Param;

/**
 * The plain AdamW that {@link AdamW} replaces, as the oracle it is checked against: torch.optim.AdamW's
 * update written as its documentation states it, in tensor ops with fresh temporaries, on PyTorch's own
 * gradients (an embedding table's included: a dense gradient from PyTorch's embedding backward).
 */
final class ReferenceAdamW implements AutoCloseable {
    private final List<Param> params;
    private final Predicate<String> decayed;
    private final AdamW.Settings s;
    private final NDManager manager;
    private final Map<Param, NDArray[]> moments = new LinkedHashMap<>(); // [m, v]
    private int t;

    ReferenceAdamW(List<Param> params, Predicate<String> decayed, AdamW.Settings settings, NDManager parent) {
        this.params = params;
        this.decayed = decayed;
        this.s = settings;
        this.manager = parent.newSubManager();
        params.forEach(p -> moments.put(p, new NDArray[] {manager.zeros(p.shape(), DataType.FLOAT32), manager.zeros(p.shape(), DataType.FLOAT32)}));
    }

    /** Global L2 norm of the gradients, as clip_grad_norm_. */
    double gradNorm(NDManager scratch) {
        double sum = 0;
        for (Param p : params) {
            NDArray g = gradient(p, scratch);
            sum += g == null ? 0 : g.square().sum().getFloat();
        }
        return Math.sqrt(sum);
    }

    void step(double lr, double clip, NDManager scratch) {
        t++;
        for (Param p : params) {
            NDArray g = gradient(p, scratch);
            if (g == null) {
                continue; // torch.optim skips grad None
            }
            g = g.mul(clip); // (temporaries go to g's manager, the scratch)
            NDArray[] mv = moments.get(p);
            mv[0].muli(s.beta1()).addi(g.mul(1 - s.beta1())); // m = b1 m + (1 - b1) g
            mv[1].muli(s.beta2()).addi(g.square().mul(1 - s.beta2())); // v = b2 v + (1 - b2) g^2
            NDArray w = p.array();
            if (decayed.test(p.name())) {
                w.muli(1 - lr * s.weightDecay()); // decoupled weight decay
            }
            NDArray mHat = mv[0].div(1 - Math.pow(s.beta1(), t));
            NDArray vHat = mv[1].div(1 - Math.pow(s.beta2(), t));
            mHat.attach(scratch);
            vHat.attach(scratch);
            w.subi(mHat.div(vHat.sqrt().add(s.eps())).mul(lr)); // p -= lr m^ / (sqrt(v^) + eps)
            p.dropGradient();
        }
    }

    /** exp_avg.&lt;param&gt; and exp_avg_sq.&lt;param&gt;, as {@link AdamW#state()} names them. */
    Map<String, float[]> state() {
        Map<String, float[]> out = new LinkedHashMap<>();
        moments.forEach((p, mv) -> {
            out.put("exp_avg." + p.name(), mv[0].toFloatArray());
            out.put("exp_avg_sq." + p.name(), mv[1].toFloatArray());
        });
        return out;
    }

    private static NDArray gradient(Param p, NDManager scratch) {
        NDArray g = p.array().hasGradient() ? JniUtils.getGradient((PtNDArray) p.array()) : null;
        if (g != null) {
            g.attach(scratch);
        }
        return g;
    }

    @Override
    public void close() {
        manager.close();
    }
}
