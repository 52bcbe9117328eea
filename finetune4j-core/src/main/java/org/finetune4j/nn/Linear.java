package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * y = x W^T + b, with W stored (out, in) under {@code <name>.weight} as in torch.nn.Linear. An optional
 * {@link Adapter} (LoRA) is applied on top of the base output; the base weights are never edited
 * except by an explicit merge. Under {@link Precision#BF16} the product runs in bf16 with fp32 accumulation
 * (fp32 in and out, fp32 weights).
 */
public final class Linear {
    private final String name;
    public final Param weight; // (out, in)
    public final Param bias; // (out) or null
    private final long in;
    private final long out;
    private Adapter adapter;

    public Linear(ParameterStore store, String name, long in, long out, boolean bias, double initStd) {
        this.name = name;
        this.in = in;
        this.out = out;
        this.weight = store.register(name + ".weight", new Shape(out, in), new Init.Normal(initStd));
        this.bias = bias ? store.register(name + ".bias", new Shape(out), Init.ZEROS) : null;
    }

    /** The module path, e.g. {@code bert.encoder.layer.0.attention.self.query}. */
    public String name() {
        return name;
    }

    public long inFeatures() {
        return in;
    }

    public long outFeatures() {
        return out;
    }

    /** x (..., in) -> (..., out). */
    public NDArray forward(NDArray x, boolean training) {
        NDArray b = bias == null ? null : bias.array();
        NDArray y = Precision.current() == Precision.BF16 ? ScriptedKernels.get().linearBf16(x, weight.array(), b, training)
                : x.getNDArrayInternal().linear(x, weight.array(), b).singletonOrThrow(); // (..., out)
        return adapter == null ? y : adapter.apply(x, y, training);
    }

    public Adapter adapter() {
        return adapter;
    }

    public void setAdapter(Adapter adapter) {
        this.adapter = adapter;
    }
}
