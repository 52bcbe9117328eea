package org.finetune4j.models;

import ai.djl.ndarray.NDArray;

/**
 * @param lastHiddenState (B, T, H)
 * @param pooled (B, H) BERT's pooler output, or null when the encoder has no pooler
 */
public record EncoderOutput(NDArray lastHiddenState, NDArray pooled) {
}
