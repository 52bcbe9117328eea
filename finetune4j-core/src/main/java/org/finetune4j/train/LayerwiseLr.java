package org.finetune4j.train;

import java.util.List;
import org.finetune4j.models.Encoder;
import org.finetune4j.models.TransformerModel;

/**
 * Layer-wise learning-rate decay (LLRD): lower layers train at smaller rates, as in ULMFiT's
 * discriminative fine-tuning (Howard &amp; Ruder 2018), Sun et al. 2019 ("How to Fine-Tune BERT for Text
 * Classification", section 5.3) and ELECTRA (Clark et al. 2020). With L encoder layers each parameter gets
 * a depth, and trains at {@code learning_rate * γ^(L + 1 - depth)} (times the schedule's multiplier, which
 * scales every depth alike):
 *
 * <pre>
 *   depth L + 1   the head (classifier, and the pooler, which feeds it)       lr
 *   depth i + 1   encoder layer i (0 = lowest), LoRA matrices in it included   lr γ^(L - i)   (top layer: lr γ)
 *   depth 0       the embeddings and every other encoder parameter             lr γ^(L + 1)
 * </pre>
 *
 * "Every other encoder parameter" is what lies outside the layers and the pooler but inside the encoder:
 * the embeddings' projections (ELECTRA's embeddings_project, ALBERT's encoder.embedding_hidden_mapping_in)
 * and the relative positions every layer reads (DeBERTa-v2's encoder.rel_embeddings and encoder.LayerNorm,
 * MPNet's encoder.relative_attention_bias): they sit below the first layer, with the embeddings. ALBERT's
 * layers share one group of weights; it trains at the rate of the highest layer that runs it (the top
 * layer's, lr γ, in every released checkpoint). γ = 1 gives every parameter the base rate exactly.
 */
public final class LayerwiseLr {
    private final List<String> headPrefixes;
    private final String[] layerPrefixes; // by layer index
    private final String encoderPrefix;

    private LayerwiseLr(List<String> headPrefixes, String[] layerPrefixes, String encoderPrefix) {
        this.headPrefixes = headPrefixes;
        this.layerPrefixes = layerPrefixes;
        this.encoderPrefix = encoderPrefix;
    }

    /** The depths of {@code model}'s parameters, by their Hugging Face names. */
    public static LayerwiseLr of(TransformerModel model) {
        Encoder e = model.encoder();
        String[] layers = new String[model.config().encoder().numLayers()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = e.layerPrefix(i);
        }
        List<String> head = new java.util.ArrayList<>(model.head().modulePrefixes());
        head.add(e.poolerPrefix());
        return new LayerwiseLr(List.copyOf(head), layers, e.prefix());
    }

    /** L, the number of encoder layers. */
    public int layers() {
        return layerPrefixes.length;
    }

    /** The depth of a parameter: 0 (embeddings) to L + 1 (head), as in the class comment. */
    public int depth(String name) {
        if (headPrefixes.stream().anyMatch(name::startsWith)) {
            return layers() + 1;
        }
        for (int i = layers() - 1; i >= 0; i--) { // the highest layer first: ALBERT's shared group is the top layer's
            if (name.startsWith(layerPrefixes[i])) {
                return i + 1;
            }
        }
        return name.startsWith(encoderPrefix) ? 0 : layers() + 1;
    }

    /** The factor on the learning rate of parameter {@code name}: γ^(L + 1 - depth); 1 for every one when γ = 1. */
    public double scale(String name, double gamma) {
        return Math.pow(gamma, layers() + 1 - depth(name));
    }
}
