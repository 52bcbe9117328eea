package org.finetune4j.config;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The encoder part of a config.json, one record per architecture, with Hugging Face field names. */
public sealed interface EncoderConfig permits BertConfig, DistilBertConfig, MPNetConfig, AlbertConfig {
    /** transformers' model_type: "bert", "distilbert" or "roberta". */
    String modelType();

    int vocabSize();

    int hiddenSize();

    int numLayers();

    int numHeads();

    int maxPositionEmbeddings();

    int padTokenId();

    double initializerRange();

    /** Dropout for a classification head, as the architecture's own ForSequenceClassification uses it. */
    double classifierDropout();

    /**
     * Rows of the position table before the first token's: RoBERTa-style position ids
     * (create_position_ids_from_input_ids) start at padding_idx + 1, so a sequence may hold
     * max_position_embeddings minus this many tokens.
     */
    default int positionOffset() {
        return 0;
    }

    /** Whether the encoder takes token_type_ids. */
    boolean usesTokenTypes();

    /** Writes the fields into a config.json object. */
    void writeTo(ObjectNode node);
}
