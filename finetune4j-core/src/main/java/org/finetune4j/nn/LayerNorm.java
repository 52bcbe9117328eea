package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** torch.nn.LayerNorm over the last dimension; parameters {@code <name>.weight} and {@code <name>.bias}. */
public final class LayerNorm {
    public final Param weight; // (dim)
    public final Param bias; // (dim)
    private final Shape normalized;
    private final float eps;

    public LayerNorm(ParameterStore store, String name, long dim, double eps) {
        this.weight = store.register(name + ".weight", new Shape(dim), Init.ONES);
        this.bias = store.register(name + ".bias", new Shape(dim), Init.ZEROS);
        this.normalized = new Shape(dim);
        this.eps = (float) eps;
    }

    public float eps() {
        return eps;
    }

    /** x (..., dim) -> (..., dim). */
    public NDArray forward(NDArray x) {
        return x.getNDArrayInternal().layerNorm(x, normalized, weight.array(), bias.array(), eps).singletonOrThrow();
    }
}
