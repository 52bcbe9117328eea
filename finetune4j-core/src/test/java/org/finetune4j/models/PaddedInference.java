package org.finetune4j.models;

import ai.djl.ndarray.NDArray;

/**
 * The oracle for packed inference ({@link PackedTokens}): inference on the whole padded batch, as
 * training computes it, padding masked out of attention. Every token, padding included, goes through
 * every layer; the real tokens' states must come out as packing computes them, up to float rounding.
 */
final class PaddedInference {
    private PaddedInference() {
    }

    /** input -> the encoder's output on the padded batch: (B, T, H), and the pooler's (B, H) if any. */
    static EncoderOutput encode(TransformerModel model, EncoderInput in) {
        return model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false);
    }

    /** input -> logits (B, C) from the padded batch, pooled as the model's head pools. */
    static NDArray logits(TransformerModel model, EncoderInput in) {
        NDArray features = Pooler.pool(model.config().head().pooling(), encode(model, in), in.attentionMask()); // (B, H)
        return model.headForward(features, false); // (B, C)
    }
}
