package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.nn.Functional;

/**
 * transformers' BertConfig (and RobertaConfig, which has the same fields with other defaults).
 * Defaults are transformers' defaults, so a sparse config.json reads as Python would read it.
 */
public record BertConfig(
        String modelType, // "bert" or "roberta"
        int vocabSize,
        int hiddenSize,
        int numLayers, // num_hidden_layers
        int numHeads, // num_attention_heads
        int intermediateSize,
        String hiddenAct,
        double hiddenDropout, // hidden_dropout_prob
        double attentionDropout, // attention_probs_dropout_prob
        int maxPositionEmbeddings,
        int typeVocabSize,
        double initializerRange,
        double layerNormEps,
        int padTokenId,
        Double classifierDropoutOrNull // classifier_dropout; null means hidden_dropout_prob
) implements EncoderConfig {

    public BertConfig {
        if (!modelType.equals("bert") && !modelType.equals("roberta")) {
            throw new IllegalArgumentException("BertConfig model_type must be bert or roberta, not " + modelType);
        }
        if (hiddenSize % numHeads != 0) {
            throw new CheckpointException("config: hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numHeads + ". Fix config.json.");
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new CheckpointException("config: pad_token_id " + padTokenId + " is outside the vocabulary of "
                    + vocabSize + ". Fix config.json.");
        }
        if (modelType.equals("roberta") && maxPositionEmbeddings <= padTokenId + 1) {
            throw new CheckpointException("config: RoBERTa needs max_position_embeddings > pad_token_id + 1 (positions"
                    + " start at pad_token_id + 1); found " + maxPositionEmbeddings + ". Fix config.json.");
        }
    }

    /** A tiny BERT for tests and examples (hidden 32, 2 layers, 4 heads), as transformers' tests use. */
    public static BertConfig tiny(String modelType, int vocabSize) {
        int pad = modelType.equals("roberta") ? 1 : 0;
        return new BertConfig(modelType, vocabSize, 32, 2, 4, 37, "gelu", 0.1, 0.1,
                modelType.equals("roberta") ? 66 : 64, modelType.equals("roberta") ? 1 : 2, 0.02, 1e-12, pad, null);
    }

    static BertConfig read(ObjectNode node, String where, String modelType) {
        JsonFields f = new JsonFields(node, where);
        boolean roberta = modelType.equals("roberta");
        String positionType = f.string("position_embedding_type", "absolute");
        if (!positionType.equals("absolute")) {
            throw new CheckpointException(where + ": position_embedding_type \"" + positionType
                    + "\" is not supported; only \"absolute\" is.");
        }
        return new BertConfig(
                modelType,
                f.positiveInt("vocab_size", roberta ? 50265 : 30522),
                f.positiveInt("hidden_size", 768),
                f.positiveInt("num_hidden_layers", 12),
                f.positiveInt("num_attention_heads", 12),
                f.positiveInt("intermediate_size", 3072),
                f.oneOf("hidden_act", "gelu", Functional.ACTIVATIONS),
                f.probability("hidden_dropout_prob", 0.1),
                f.probability("attention_probs_dropout_prob", 0.1),
                f.positiveInt("max_position_embeddings", 512),
                f.positiveInt("type_vocab_size", 2),
                f.positiveDouble("initializer_range", 0.02),
                f.positiveDouble("layer_norm_eps", 1e-12),
                f.intValue("pad_token_id", roberta ? 1 : 0),
                f.optionalProbability("classifier_dropout"));
    }

    @Override
    public double classifierDropout() {
        return classifierDropoutOrNull != null ? classifierDropoutOrNull : hiddenDropout;
    }

    @Override
    public boolean usesTokenTypes() {
        return true;
    }

    @Override
    public int positionOffset() {
        return modelType.equals("roberta") ? padTokenId + 1 : 0;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public void writeTo(ObjectNode n) {
        n.put("model_type", modelType);
        n.put("vocab_size", vocabSize);
        n.put("hidden_size", hiddenSize);
        n.put("num_hidden_layers", numLayers);
        n.put("num_attention_heads", numHeads);
        n.put("intermediate_size", intermediateSize);
        n.put("hidden_act", hiddenAct);
        n.put("hidden_dropout_prob", hiddenDropout);
        n.put("attention_probs_dropout_prob", attentionDropout);
        n.put("max_position_embeddings", maxPositionEmbeddings);
        n.put("type_vocab_size", typeVocabSize);
        n.put("initializer_range", initializerRange);
        n.put("layer_norm_eps", layerNormEps);
        n.put("pad_token_id", padTokenId);
        n.put("position_embedding_type", "absolute");
        if (classifierDropoutOrNull == null) {
            n.putNull("classifier_dropout");
        } else {
            n.put("classifier_dropout", classifierDropoutOrNull);
        }
    }

    static final Set<String> TYPES = Set.of("bert", "roberta");
}
