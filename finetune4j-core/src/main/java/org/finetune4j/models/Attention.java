package org.finetune4j.models;

import static org.finetune4j.nn.Functional.dropout;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.function.UnaryOperator;

/**
 * Softmax self-attention over all heads of padded sequences, padding hidden by an additive mask. It is
 * the one operation of a BERT-family layer that mixes tokens; training runs it on the whole padded
 * batch ({@link TokenLayout.Padded}), inference on each length group of {@link PackedTokens}.
 */
final class Attention {
    private Attention() {
    }

    /**
     * The attention mask as an additive bias: 0 where attended, the most negative float where padded, as
     * transformers' get_extended_attention_mask does. mask (B, T) -> (B, 1, 1, T).
     */
    static NDArray additiveMask(NDArray attentionMask) {
        Shape s = attentionMask.getShape();
        NDArray m = attentionMask.toType(DataType.FLOAT32, false); // (B, T)
        return m.neg().add(1f).mul(-Float.MAX_VALUE).reshape(s.get(0), 1, 1, s.get(1)); // (B, 1, 1, T)
    }

    /**
     * softmax(scale(q k^T) + mask) v for (b, T, H) inputs and an additive mask (b, 1, 1, T) -> (b, T, H);
     * {@code scale} is applied to the raw scores q k^T (b, nh, T, T).
     */
    static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask, int numHeads, int headSize,
            UnaryOperator<NDArray> scale, double dropoutP, boolean training) {
        long b = q.getShape().get(0);
        long t = q.getShape().get(1);
        NDArray qh = q.reshape(b, t, numHeads, headSize).transpose(0, 2, 1, 3); // (b, nh, T, hs)
        NDArray kh = k.reshape(b, t, numHeads, headSize).transpose(0, 2, 1, 3); // (b, nh, T, hs)
        NDArray vh = v.reshape(b, t, numHeads, headSize).transpose(0, 2, 1, 3); // (b, nh, T, hs)
        // Attention(Q, K, V) = softmax(Q K^T / sqrt(hs) + mask) V   (Vaswani et al. 2017, eq. 1)
        NDArray scores = scale.apply(qh.matMul(kh.transpose(0, 1, 3, 2))).add(mask); // (b, nh, T, T)
        NDArray probs = dropout(scores.softmax(-1), dropoutP, training); // (b, nh, T, T)
        NDArray context = probs.matMul(vh); // (b, nh, T, hs)
        return context.transpose(0, 2, 1, 3).reshape(b, t, (long) numHeads * headSize); // (b, T, H)
    }
}
