package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;

/**
 * torch.nn.Embedding; parameter {@code <name>.weight} (num, dim). The lookup goes through the ids
 * array so the result belongs to the caller's (per-batch) memory scope, not the weight's.
 */
public final class Embedding {
    public final Param weight; // (num, dim)

    public Embedding(ParameterStore store, String name, long num, long dim, double initStd, int paddingIdx) {
        this.weight = store.register(name + ".weight", new Shape(num, dim),
                new Init.NormalZeroRow(initStd, paddingIdx, (int) dim));
    }

    /** ids (...) int64 -> (..., dim). */
    public NDArray forward(NDArray ids) {
        return ids.getNDArrayInternal().embedding(ids, weight.array(), SparseFormat.DENSE).singletonOrThrow();
    }
}
