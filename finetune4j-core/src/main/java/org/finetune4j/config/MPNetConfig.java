package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.nn.Functional;

/**
 * transformers' MPNetConfig (configuration_mpnet.py), every model-specific field with its default, so a
 * sparse config.json reads as Python reads it. MPNet has no token types and no classifier_dropout: its
 * classification head drops out with hidden_dropout_prob (MPNetClassificationHead).
 */
public record MPNetConfig(
        int vocabSize,
        int hiddenSize,
        int numLayers, // num_hidden_layers
        int numHeads, // num_attention_heads
        int intermediateSize,
        String hiddenAct,
        double hiddenDropout, // hidden_dropout_prob
        double attentionDropout, // attention_probs_dropout_prob
        int maxPositionEmbeddings,
        double initializerRange,
        double layerNormEps,
        int relativeAttentionNumBuckets, // rows of encoder.relative_attention_bias
        int padTokenId,
        int bosTokenId,
        int eosTokenId
) implements EncoderConfig {

    /**
     * MPNetEmbeddings hard-codes padding_idx = 1 (not pad_token_id) for its position ids and the padding
     * rows of both embedding tables (modeling_mpnet.py).
     */
    public static final int PADDING_IDX = 1;

    /**
     * compute_position_bias always asks for 32 buckets (num_buckets=32 hard-coded); the config's
     * relative_attention_num_buckets only sizes the table, so it must hold bucket 31.
     */
    public static final int POSITION_BUCKETS = 32;

    public MPNetConfig {
        if (hiddenSize % numHeads != 0) {
            throw new CheckpointException("config: hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numHeads + ". Fix config.json.");
        }
        if (maxPositionEmbeddings <= PADDING_IDX + 1) {
            throw new CheckpointException("config: MPNet needs max_position_embeddings > " + (PADDING_IDX + 1)
                    + " (positions start at padding_idx + 1 = 2); found " + maxPositionEmbeddings + ". Fix config.json.");
        }
        if (vocabSize <= PADDING_IDX) {
            throw new CheckpointException("config: vocab_size " + vocabSize + " has no row for MPNet's padding_idx "
                    + PADDING_IDX + ". Fix config.json.");
        }
        if (relativeAttentionNumBuckets < POSITION_BUCKETS) {
            throw new CheckpointException("config: relative_attention_num_buckets " + relativeAttentionNumBuckets
                    + " is below the " + POSITION_BUCKETS + " buckets MPNet's compute_position_bias looks up. Fix config.json.");
        }
    }

    /** A tiny MPNet for tests (hidden 32, 2 layers, 4 heads), positions 66 = 64 + padding_idx + 1 as in mpnet-base. */
    public static MPNetConfig tiny(int vocabSize) {
        return new MPNetConfig(vocabSize, 32, 2, 4, 37, "gelu", 0.1, 0.1, 66, 0.02, 1e-5, 32, 1, 0, 2);
    }

    static MPNetConfig read(ObjectNode node, String where) {
        JsonFields f = new JsonFields(node, where);
        return new MPNetConfig(
                f.positiveInt("vocab_size", 30527),
                f.positiveInt("hidden_size", 768),
                f.positiveInt("num_hidden_layers", 12),
                f.positiveInt("num_attention_heads", 12),
                f.positiveInt("intermediate_size", 3072),
                f.oneOf("hidden_act", "gelu", Functional.ACTIVATIONS),
                f.probability("hidden_dropout_prob", 0.1),
                f.probability("attention_probs_dropout_prob", 0.1),
                f.positiveInt("max_position_embeddings", 512),
                f.positiveDouble("initializer_range", 0.02),
                f.positiveDouble("layer_norm_eps", 1e-12),
                f.positiveInt("relative_attention_num_buckets", 32),
                f.intValue("pad_token_id", 1),
                f.intValue("bos_token_id", 0),
                f.intValue("eos_token_id", 2));
    }

    @Override
    public String modelType() {
        return "mpnet";
    }

    @Override
    public double classifierDropout() {
        return hiddenDropout;
    }

    @Override
    public boolean usesTokenTypes() {
        return false;
    }

    /** Position ids start at padding_idx + 1, as RoBERTa's (create_position_ids_from_input_ids). */
    @Override
    public int maxInputLength() {
        return maxPositionEmbeddings - PADDING_IDX - 1;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public void writeTo(ObjectNode n) {
        n.put("model_type", "mpnet");
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("hidden_act", hiddenAct);
        n.put("hidden_dropout_prob", hiddenDropout);
        n.put("attention_probs_dropout_prob", attentionDropout);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("initializer_range", initializerRange);
        n.put("layer_norm_eps", layerNormEps);
        n.put("relative_attention_num_buckets", relativeAttentionNumBuckets);
        n.put("pad_token_id", padTokenId);
        n.put("bos_token_id", bosTokenId);
        n.put("eos_token_id", eosTokenId);
    }
}
