package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.nn.Functional;

/**
 * transformers' AlbertConfig (configuration_albert.py), every model-specific field with its default, so
 * a sparse config.json reads as Python reads it. ALBERT factorises the embeddings (embedding_size wide,
 * projected to hidden_size) and shares layers: num_hidden_layers layers run num_hidden_groups groups of
 * weights, each group inner_group_num layers deep (Lan et al. 2020, section 3.1).
 */
public record AlbertConfig(
        int vocabSize,
        int embeddingSize,
        int hiddenSize,
        int numLayers, // num_hidden_layers
        int numHiddenGroups,
        int numHeads, // num_attention_heads
        int intermediateSize,
        int innerGroupNum,
        String hiddenAct,
        double hiddenDropout, // hidden_dropout_prob
        double attentionDropout, // attention_probs_dropout_prob
        int maxPositionEmbeddings,
        int typeVocabSize,
        double initializerRange,
        double layerNormEps,
        double classifierDropoutProb, // classifier_dropout_prob
        int padTokenId,
        int bosTokenId,
        int eosTokenId
) implements EncoderConfig {

    public AlbertConfig {
        if (hiddenSize % numHeads != 0) {
            throw new CheckpointException("config: hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numHeads + ". Fix config.json.");
        }
        if (numHiddenGroups > numLayers) {
            throw new CheckpointException("config: num_hidden_groups " + numHiddenGroups + " exceeds num_hidden_layers "
                    + numLayers + "; transformers would never use the extra groups. Fix config.json.");
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new CheckpointException("config: pad_token_id " + padTokenId + " is outside the vocabulary of "
                    + vocabSize + ". Fix config.json.");
        }
    }

    /** A tiny ALBERT for tests: embeddings 16 wide, hidden 32, 2 layers sharing one group, 4 heads. */
    public static AlbertConfig tiny(int vocabSize) {
        return new AlbertConfig(vocabSize, 16, 32, 2, 1, 4, 37, 1, "gelu_new", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0.1, 0, 2, 3);
    }

    static AlbertConfig read(ObjectNode node, String where) {
        JsonFields f = new JsonFields(node, where);
        String positionType = f.string("position_embedding_type", "absolute");
        if (!positionType.equals("absolute")) {
            throw new CheckpointException(where + ": position_embedding_type \"" + positionType
                    + "\" is not supported; only \"absolute\" is.");
        }
        return new AlbertConfig(
                f.positiveInt("vocab_size", 30000),
                f.positiveInt("embedding_size", 128),
                f.positiveInt("hidden_size", 4096),
                f.positiveInt("num_hidden_layers", 12),
                f.positiveInt("num_hidden_groups", 1),
                f.positiveInt("num_attention_heads", 64),
                f.positiveInt("intermediate_size", 16384),
                f.positiveInt("inner_group_num", 1),
                f.oneOf("hidden_act", "gelu_new", Functional.ACTIVATIONS),
                f.probability("hidden_dropout_prob", 0),
                f.probability("attention_probs_dropout_prob", 0),
                f.positiveInt("max_position_embeddings", 512),
                f.positiveInt("type_vocab_size", 2),
                f.positiveDouble("initializer_range", 0.02),
                f.positiveDouble("layer_norm_eps", 1e-12),
                f.probability("classifier_dropout_prob", 0.1),
                f.intValue("pad_token_id", 0),
                f.intValue("bos_token_id", 2),
                f.intValue("eos_token_id", 3));
    }

    @Override
    public String modelType() {
        return "albert";
    }

    @Override
    public double classifierDropout() {
        return classifierDropoutProb;
    }

    @Override
    public boolean usesTokenTypes() {
        return true;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    /** The layer group that layer i (0-based) runs, as AlbertTransformer.forward picks it. */
    public int groupOfLayer(int i) {
        return (int) (i / ((double) numLayers / numHiddenGroups));
    }

    @Override
    public void writeTo(ObjectNode n) {
        n.put("model_type", "albert");
        n.put("vocab_size", vocabSize);
        n.put("embedding_size", embeddingSize);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_hidden_groups", numHiddenGroups);
        n.put("num_attention_heads", numHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("inner_group_num", innerGroupNum);
        n.put("hidden_act", hiddenAct);
        n.put("hidden_dropout_prob", hiddenDropout);
        n.put("attention_probs_dropout_prob", attentionDropout);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("type_vocab_size", typeVocabSize);
        n.put("initializer_range", initializerRange);
        n.put("layer_norm_eps", layerNormEps);
        n.put("classifier_dropout_prob", classifierDropoutProb);
        n.put("position_embedding_type", "absolute");
        n.put("pad_token_id", padTokenId);
        n.put("bos_token_id", bosTokenId);
        n.put("eos_token_id", eosTokenId);
    }
}
