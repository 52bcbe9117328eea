package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.nn.Functional;

/** transformers' DistilBertConfig, with its field names (dim, n_layers, n_heads, hidden_dim). */
public record DistilBertConfig(
        int vocabSize,
        int dim,
        int nLayers,
        int nHeads,
        int hiddenDim,
        String activation,
        double dropout,
        double attentionDropout,
        int maxPositionEmbeddings,
        boolean sinusoidalPosEmbds,
        double initializerRange,
        double seqClassifDropout,
        int padTokenId
) implements EncoderConfig {

    /** DistilBERT's LayerNorms use a fixed epsilon (modeling_distilbert.py). */
    public static final double LAYER_NORM_EPS = 1e-12;

    public DistilBertConfig {
        if (dim % nHeads != 0) {
            throw new CheckpointException("config: dim " + dim + " is not a multiple of n_heads " + nHeads + ". Fix config.json.");
        }
        if (sinusoidalPosEmbds) {
            throw new CheckpointException("config: sinusoidal_pos_embds=true is not supported (no public DistilBERT"
                    + " checkpoint uses it).");
        }
    }

    public static DistilBertConfig tiny(int vocabSize) {
        return new DistilBertConfig(vocabSize, 32, 2, 4, 37, "gelu", 0.1, 0.1, 64, false, 0.02, 0.2, 0);
    }

    static DistilBertConfig read(ObjectNode node, String where) {
        JsonFields f = new JsonFields(node, where);
        return new DistilBertConfig(
                f.positiveInt("vocab_size", 30522),
                f.positiveInt("dim", 768),
                f.positiveInt("n_layers", 6),
                f.positiveInt("n_heads", 12),
                f.positiveInt("hidden_dim", 3072),
                f.oneOf("activation", "gelu", Functional.ACTIVATIONS),
                f.probability("dropout", 0.1),
                f.probability("attention_dropout", 0.1),
                f.positiveInt("max_position_embeddings", 512),
                f.bool("sinusoidal_pos_embds", false),
                f.positiveDouble("initializer_range", 0.02),
                f.probability("seq_classif_dropout", 0.2),
                f.intValue("pad_token_id", 0));
    }

    @Override
    public String modelType() {
        return "distilbert";
    }

    @Override
    public int hiddenSize() {
        return dim;
    }

    @Override
    public int numLayers() {
        return nLayers;
    }

    @Override
    public int numHeads() {
        return nHeads;
    }

    @Override
    public double classifierDropout() {
        return seqClassifDropout;
    }

    @Override
    public boolean usesTokenTypes() {
        return false;
    }

    public int headDim() {
        return dim / nHeads;
    }

    @Override
    public void writeTo(ObjectNode n) {
        n.put("model_type", "distilbert");
        n.put("vocab_size", vocabSize);
        n.put("dim", dim);
        n.put("n_layers", nLayers);
        n.put("n_heads", nHeads);
        n.put("hidden_dim", hiddenDim);
        n.put("activation", activation);
        n.put("dropout", dropout);
        n.put("attention_dropout", attentionDropout);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("sinusoidal_pos_embds", sinusoidalPosEmbds);
        n.put("initializer_range", initializerRange);
        n.put("seq_classif_dropout", seqClassifDropout);
        n.put("pad_token_id", padTokenId);
    }
}
