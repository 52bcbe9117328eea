package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import org.finetune4j.nn.StepGradients;

/**
 * A tokenised, padded batch.
 *
 * @param inputIds (B, T) int64
 * @param attentionMask (B, T) int64, 1 for real tokens and 0 for padding
 * @param tokenTypeIds (B, T) int64, or null for all zeros (and for encoders without token types)
 * @param stepGradients where a training step collects the embedding tables' gradients row by row,
 *     or null (inference, or PyTorch's own embedding backward)
 */
public record EncoderInput(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds, StepGradients stepGradients) {

    /** A batch without row-wise embedding gradients. */
    public EncoderInput(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
        this(inputIds, attentionMask, tokenTypeIds, null);
    }

    /** The same batch, its embedding gradients collected in {@code rows} (null: none). */
    public EncoderInput withStepGradients(StepGradients rows) {
        return new EncoderInput(inputIds, attentionMask, tokenTypeIds, rows);
    }
}
