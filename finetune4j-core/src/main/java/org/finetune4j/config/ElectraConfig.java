package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.nn.Functional;

/**
 * transformers' ElectraConfig. Defaults are transformers' (those of electra-small), so a sparse
 * config.json reads as Python would read it. The {@code summary_*} fields configure ElectraForMultipleChoice's
 * SequenceSummary, which ElectraForSequenceClassification does not use; they are not modelled here and
 * survive a round trip among the config's other fields ({@link ModelConfig#extra()}).
 *
 * @param embeddingSize width of the embedding tables (E); when it differs from hiddenSize (H), a Linear
 *     {@code embeddings_project} E -> H follows the embeddings (electra-small: 128 -> 256)
 */
public record ElectraConfig(
        int vocabSize,
        int embeddingSize,
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

    public ElectraConfig {
        if (hiddenSize % numHeads != 0) {
            throw new CheckpointException("config: hidden_size " + hiddenSize + " is not a multiple of num_attention_heads "
                    + numHeads + ". Fix config.json.");
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new CheckpointException("config: pad_token_id " + padTokenId + " is outside the vocabulary of "
                    + vocabSize + ". Fix config.json.");
        }
    }

    /** A tiny ELECTRA for tests (embeddings 16 wide, hidden 32, 2 layers, 4 heads), so embeddings_project is exercised. */
    public static ElectraConfig tiny(int vocabSize) {
        return new ElectraConfig(vocabSize, 16, 32, 2, 4, 37, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0, null);
    }

    static ElectraConfig read(ObjectNode node, String where) {
        JsonFields f = new JsonFields(node, where);
        String positionType = f.string("position_embedding_type", "absolute");
        if (!positionType.equals("absolute")) {
            throw new CheckpointException(where + ": position_embedding_type \"" + positionType
                    + "\" is not supported; only \"absolute\" is.");
        }
        return new ElectraConfig(
                f.positiveInt("vocab_size", 30522),
                f.positiveInt("embedding_size", 128),
                f.positiveInt("hidden_size", 256),
                f.positiveInt("num_hidden_layers", 12),
                f.positiveInt("num_attention_heads", 4),
                f.positiveInt("intermediate_size", 1024),
                f.oneOf("hidden_act", "gelu", Functional.ACTIVATIONS),
                f.probability("hidden_dropout_prob", 0.1),
                f.probability("attention_probs_dropout_prob", 0.1),
                f.positiveInt("max_position_embeddings", 512),
                f.positiveInt("type_vocab_size", 2),
                f.positiveDouble("initializer_range", 0.02),
                f.positiveDouble("layer_norm_eps", 1e-12),
                f.intValue("pad_token_id", 0),
                f.optionalProbability("classifier_dropout"));
    }

    @Override
    public String modelType() {
        return "electra";
    }

    /** Whether the embeddings are projected to the hidden size (ElectraModel has embeddings_project iff E != H). */
    public boolean projectsEmbeddings() {
        return embeddingSize != hiddenSize;
    }

    /**
     * The sizes of ELECTRA's transformer layers as a BertConfig: transformers' ElectraLayer is BertLayer
     * ("Copied from transformers.models.bert.modeling_bert.BertLayer with Bert->Electra"), so the
     * layers are built by {@code Bert.Layer} from this. Only the layer fields matter; the embedding
     * fields are ELECTRA's own, read from this record.
     */
    public BertConfig layerConfig() {
        return new BertConfig("bert", vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, hiddenAct, hiddenDropout,
                attentionDropout, maxPositionEmbeddings, typeVocabSize, initializerRange, layerNormEps, padTokenId,
                classifierDropoutOrNull);
    }

    @Override
    public double classifierDropout() {
        return classifierDropoutOrNull != null ? classifierDropoutOrNull : hiddenDropout;
    }

    @Override
    public boolean usesTokenTypes() {
        return true;
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    @Override
    public void writeTo(ObjectNode n) {
        n.put("model_type", "electra");
        n.put("vocab_size", vocabSize);
        n.put("embedding_size", embeddingSize);
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
}
