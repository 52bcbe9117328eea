package org.finetune4j.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;

class ModelConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** bert-base-uncased's config.json as published on the Hub. */
    private static final String BERT_BASE = """
            {"architectures": ["BertForMaskedLM"], "attention_probs_dropout_prob": 0.1, "gradient_checkpointing": false,
             "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02,
             "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
             "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 0, "position_embedding_type": "absolute",
             "transformers_version": "4.6.0.dev0", "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}
            """;

    @Test
    void readsAPublishedConfigAndKeepsUnknownFields() throws Exception {
        ModelConfig c = ModelConfig.parse(BERT_BASE, "bert-base-uncased/config.json");
        BertConfig b = (BertConfig) c.encoder();
        assertEquals(768, b.hiddenSize());
        assertEquals(12, b.numHeads());
        assertEquals(64, b.headDim());
        assertFalse(c.isClassifier());
        JsonNode out = JSON.readTree(c.toJson());
        assertEquals("4.6.0.dev0", out.get("transformers_version").asText());
        assertTrue(out.get("use_cache").asBoolean());
        assertEquals("BertModel", out.get("architectures").get(0).asText());
    }

    @Test
    void classifierConfigCarriesWhatTransformersNeeds() throws Exception {
        ModelConfig c = ModelConfig.encoderOnly(TinyModels.bert())
                .withClassifier(List.of("ham", "spam"), ProblemType.SINGLE_LABEL, HeadConfig.standard(TinyModels.bert()));
        JsonNode out = JSON.readTree(c.toJson());
        assertEquals("bert", out.get("model_type").asText());
        assertEquals("BertForSequenceClassification", out.get("architectures").get(0).asText());
        assertEquals("spam", out.get("id2label").get("1").asText());
        assertEquals(0, out.get("label2id").get("ham").asInt());
        assertEquals("single_label_classification", out.get("problem_type").asText());
        assertNull(out.get("finetune4j").get("head_note"), "standard head: no interop warning");
        // It reads back to the same config.
        ModelConfig back = ModelConfig.parse(c.toJson(), "config.json");
        assertEquals(c.labels(), back.labels());
        assertEquals(c.head(), back.head());
        assertEquals(c.encoder(), back.encoder());
    }

    @Test
    void customHeadIsRecordedAndFlagged() throws Exception {
        ModelConfig c = ModelConfig.encoderOnly(TinyModels.bert())
                .withClassifier(List.of("a", "b", "c"), ProblemType.MULTI_LABEL, HeadConfig.mlp(Pooling.MEAN, 16, 0.2));
        JsonNode out = JSON.readTree(c.toJson());
        assertEquals("mlp", out.get("finetune4j").get("head").get("type").asText());
        assertEquals("mean", out.get("finetune4j").get("head").get("pooling").asText());
        assertTrue(out.get("finetune4j").get("head_note").asText().contains("transformers loads the encoder"));
        ModelConfig back = ModelConfig.parse(c.toJson(), "config.json");
        assertEquals(c.head(), back.head());
        assertEquals(ProblemType.MULTI_LABEL, back.problemType());
    }

    @Test
    void distilbertDefaultsAreTransformersDefaults() {
        ModelConfig c = ModelConfig.parse("{\"model_type\": \"distilbert\", \"architectures\": [\"DistilBertForSequenceClassification\"]}", "x");
        DistilBertConfig d = (DistilBertConfig) c.encoder();
        assertEquals(768, d.dim());
        assertEquals(6, d.nLayers());
        assertEquals(0.2, d.seqClassifDropout());
        assertEquals(List.of("LABEL_0", "LABEL_1"), c.labels(), "transformers' default num_labels=2");
        assertEquals(new HeadConfig("mlp", Pooling.CLS, 768, "relu", 0.2), c.head());
    }

    @Test
    void unsupportedModelTypeListsTheSupportedOnes() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ModelConfig.parse("{\"model_type\": \"gpt2\"}", "gpt2/config.json"));
        assertTrue(e.getMessage().contains("gpt2/config.json") && e.getMessage().contains("albert, bert, distilbert, mpnet, roberta"),
                e.getMessage());
    }

    @Test
    void badFieldsNameTheFieldAndFile() {
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ModelConfig.parse("{\"model_type\": \"bert\", \"hidden_size\": \"big\"}", "m/config.json"));
        assertTrue(e.getMessage().contains("m/config.json") && e.getMessage().contains("hidden_size"), e.getMessage());
        e = assertThrows(CheckpointException.class,
                () -> ModelConfig.parse("{\"model_type\": \"bert\", \"hidden_size\": 100, \"num_attention_heads\": 12}", "m"));
        assertTrue(e.getMessage().contains("not a multiple"), e.getMessage());
        e = assertThrows(CheckpointException.class, () -> ModelConfig.parse("{\"model_type\": \"bert\",", "m/config.json"));
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
        e = assertThrows(CheckpointException.class,
                () -> ModelConfig.parse("{\"model_type\": \"bert\", \"problem_type\": \"regression\"}", "m"));
        assertTrue(e.getMessage().contains("regression is not a classification task"), e.getMessage());
    }
}
