package org.finetune4j.models;

import static org.finetune4j.nn.Functional.scalar;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import org.finetune4j.config.Pooling;

/** Turns an encoder's output into one vector per sequence. */
public final class Pooler {
    private Pooler() {
    }

    /** out (B, T, H) plus mask (B, T) -> (B, H). */
    public static NDArray pool(Pooling pooling, EncoderOutput out, NDArray attentionMask) {
        NDArray h = out.lastHiddenState(); // (B, T, H)
        return switch (pooling) {
            case POOLER -> {
                if (out.pooled() == null) {
                    throw new IllegalStateException("pooling \"pooler\" needs an encoder built with its pooler");
                }
                yield out.pooled(); // (B, H)
            }
            case CLS -> h.get(":, 0, :"); // (B, H)
            case MEAN -> {
                // sentence-transformers' mean pooling: sum of real tokens' states / number of real tokens.
                NDArray m = attentionMask.toType(DataType.FLOAT32, false).expandDims(2); // (B, T, 1)
                NDArray sum = h.mul(m).sum(new int[] {1}); // (B, H)
                NDArray count = m.sum(new int[] {1}).maximum(scalar(m, 1e-9)); // (B, 1)
                yield sum.div(count); // (B, H)
            }
        };
    }

    /** Scales each row to unit L2 norm (what sentence-transformers' Normalize module does). x (B, H) -> (B, H). */
    public static NDArray normalize(NDArray x) {
        NDArray norm = x.norm(new int[] {1}, true); // (B, 1)
        norm = norm.maximum(scalar(norm, 1e-12)); // (B, 1)
        return x.div(norm); // (B, H)
    }
}
