package org.finetune4j.models;

import ai.djl.ndarray.NDArray;

/**
 * A tokenised, padded batch.
 *
 * @param inputIds (B, T) int64
 * @param attentionMask (B, T) int64, 1 for real tokens and 0 for padding
 * @param tokenTypeIds (B, T) int64, or null for all zeros (and for encoders without token types)
 */
public record EncoderInput(NDArray inputIds, NDArray attentionMask, NDArray tokenTypeIds) {
}
