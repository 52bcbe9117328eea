package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The encoder part of a config.json, one record per architecture, with Hugging Face field names. */
public sealed interface EncoderConfig permits BertConfig, DistilBertConfig, ElectraConfig, DebertaV2Config, MPNetConfig,
        AlbertConfig {
    /** transformers' model_type: "bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert". */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    int numHeads();

    int maxPositionEmbeddings();

    int padTokenId();

    /** The longest input (special tokens included) the position table can number. */
    default int maxInputLength() {
        return maxPositionEmbeddings();
    }

    double initializerRange();

    /** Dropout for a classification head, as the architecture's own ForSequenceClassification uses it. */
    double classifierDropout();


    /** Whether the encoder takes token_type_ids. */
    boolean usesTokenTypes();

    /** Writes the fields into a config.json object. */
    void writeTo(ObjectNode node);
}
