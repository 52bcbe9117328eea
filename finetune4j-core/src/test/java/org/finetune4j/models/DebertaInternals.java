package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * What transformers returns with output_hidden_states and output_attentions, for DebertaParityTest: the
 * inference pass of {@link DebertaV2} one layer at a time, through its own layers (no second copy of
 * the arithmetic).
 */
public final class DebertaInternals {
    private DebertaInternals() {
    }

    /** The hidden states (embeddings output, then each layer's), each (B, T, H), and each layer's attention probabilities (B, nh, T, T). */
    public record Trace(List<NDArray> hiddenStates, List<NDArray> attentions) {
    }

    public static Trace trace(TransformerModel model, EncoderInput in) {
        DebertaV2 enc = (DebertaV2) model.encoder();
        DebertaV2.RelativeContext ctx = enc.relativeContext(in);
        List<NDArray> states = new ArrayList<>();
        List<NDArray> attentions = new ArrayList<>();
        NDArray x = enc.embed(in, false); // (B, T, H)
        states.add(x);
        for (DebertaV2.Layer layer : enc.layers()) {
            attentions.add(layer.attention.probabilities(x, ctx)); // (B, nh, T, T)
            x = layer.forward(x, ctx, false); // (B, T, H)
            states.add(x);
        }
        return new Trace(states, attentions);
    }
}
