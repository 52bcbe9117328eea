package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.function.UnaryOperator;

/**
 * Where a batch's real tokens are. Every part of a BERT-family layer except {@link Attention} (linear
 * layers, layer norm, activation, residual sums) treats each token on its own, so it runs on whatever
 * (..., H) tensor the layout hands it.
 *
 * <ul>
 *   <li>{@link Padded}: the (B, T, H) batch as the tokenizer padded it. Training uses it (length-grouped
 *       training batches carry little padding), and so does inference on a batch without padding.</li>
 *   <li>{@link PackedTokens}: inference on a padded batch, only the real tokens (N, H).</li>
 * </ul>
 *
 * Both compute the same function of the real tokens; they differ only by float rounding (other matrix
 * shapes), which TokenLayoutTest bounds against padded inference.
 */
public interface TokenLayout {

    /**
     * Softmax attention over all heads, per sequence. q, k, v and the result are (B, T, H) padded or
     * (N, H) packed; {@code scale} is applied to the raw scores q k^T (B', nh, T', T').
     */
    NDArray attention(NDArray q, NDArray k, NDArray v, int numHeads, int headSize, UnaryOperator<NDArray> scale,
            double dropoutP, boolean training);

    /** An int64 (B, T) input of the batch (ids, positions, token types) in this layout: (B, T) or (N). */
    NDArray tokens(NDArray batchTokens);

    /** Each token's position in its row: (T), to broadcast over the rows, or (N). */
    NDArray positionIds(NDManager manager);

    /** The encoder's final states back as (B, T, H). */
    NDArray toBatch(NDArray states);

    /**
     * The layout of a forward pass: the padded batch while training; at inference only the real tokens,
     * unless the batch has no padding to skip (or a row without any token).
     */
    static TokenLayout of(EncoderInput in, boolean training) {
        if (!training) {
            PackedTokens packed = PackedTokens.of(in.attentionMask());
            if (packed != null) {
                return packed;
            }
        }
        return padded(in.attentionMask());
    }

    /** The padded layout of a (B, T) 0/1 attention mask. */
    static Padded padded(NDArray attentionMask) {
        return new Padded(Attention.additiveMask(attentionMask));
    }

    /** The padded batch: (B, T, H) states, padding masked by an additive bias (B, 1, 1, T). */
    record Padded(NDArray mask) implements TokenLayout {
        @Override
        public NDArray attention(NDArray q, NDArray k, NDArray v, int numHeads, int headSize, UnaryOperator<NDArray> scale,
                double dropoutP, boolean training) {
            return Attention.attend(q, k, v, mask, numHeads, headSize, scale, dropoutP, training); // (B, T, H)
        }

        @Override
        public NDArray tokens(NDArray batchTokens) {
            return batchTokens; // (B, T)
        }

        @Override
        public NDArray positionIds(NDManager manager) {
            return manager.arange(0, mask.getShape().get(3), 1, DataType.INT64); // (T)
        }

        @Override
        public NDArray toBatch(NDArray states) {
            return states; // (B, T, H)
        }
    }
}
