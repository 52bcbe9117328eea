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
    private final int paddingIdx; // -1 for none

    public Embedding(ParameterStore store, String name, long num, long dim, double initStd, int paddingIdx) {
        this.weight = store.register(name + ".weight", new Shape(num, dim),
                new Init.NormalZeroRow(initStd, paddingIdx, (int) dim));
        this.weight.markEmbeddingTable();
        this.paddingIdx = paddingIdx;
    }

    /**
     * ids (...) int64 -> (..., dim). With a training step's {@link StepGradients} the table's gradient
     * is added row by row after backward instead of through a dense (num, dim) gradient; {@code rows} is
     * null at inference and where PyTorch's embedding backward should run.
     */
    public NDArray forward(NDArray ids, StepGradients rows) {
        NDArray looked = rows == null ? null : rows.lookup(ids, weight, paddingIdx); // (..., dim)
        if (looked != null) {
            return looked;
        }
        return ids.getNDArrayInternal().embedding(ids, weight.array(), SparseFormat.DENSE).singletonOrThrow(); // (..., dim)
    }
}
