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
        assertTrue(e.getMessage().contains("gpt2/config.json"), e.getMessage());
        for (String type : ModelConfig.SUPPORTED_MODEL_TYPES) {
            assertTrue(e.getMessage().contains(type), type + " listed: " + e.getMessage());
        }
    }

    /** Sparse configs read with transformers' defaults: XLMRobertaConfig's and ElectraConfig's (electra-small's sizes). */
    @Test
    void xlmRobertaAndElectraDefaultsAreTransformers() {
        ModelConfig x = ModelConfig.parse("{\"architectures\": [\"XLMRobertaForSequenceClassification\"]}", "x");
        BertConfig b = (BertConfig) x.encoder();
        assertEquals("xlm-roberta", b.modelType(), "model_type inferred from the architecture");
        assertEquals(30522, b.vocabSize(), "XLMRobertaConfig's default, not RobertaConfig's 50265");
        assertEquals(1, b.padTokenId());
        assertEquals(512 - 2, b.maxInputLength(), "positions start at pad_token_id + 1");
        assertEquals(new HeadConfig("roberta", Pooling.CLS, 768, "tanh", 0.1), x.head());
        assertEquals("XLMRobertaForSequenceClassification", x.architecture());

        ModelConfig e = ModelConfig.parse("{\"model_type\": \"electra\", \"architectures\": [\"ElectraForPreTraining\"]}", "e");
        ElectraConfig c = (ElectraConfig) e.encoder();
        assertEquals(List.of(128, 256, 12, 4, 1024, 512), List.of(c.embeddingSize(), c.hiddenSize(), c.numLayers(), c.numHeads(),
                c.intermediateSize(), c.maxInputLength()));
        assertFalse(e.isClassifier());
        assertEquals("ElectraModel", e.architecture());
        assertEquals(new HeadConfig("electra", Pooling.CLS, 256, "gelu", 0.1), HeadConfig.standard(c),
                "ElectraClassificationHead: dense, GELU, out_proj on the first token");
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
    /** microsoft/deberta-v3-base's config.json as published on the Hub (pos_att_type as a "|" string). */
    private static final String DEBERTA_V3_BASE = """
            {"model_type": "deberta-v2", "attention_probs_dropout_prob": 0.1, "hidden_act": "gelu",
             "hidden_dropout_prob": 0.1, "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
             "max_position_embeddings": 512, "relative_attention": true, "position_buckets": 256,
             "norm_rel_ebd": "layer_norm", "share_att_key": true, "pos_att_type": "p2c|c2p", "layer_norm_eps": 1e-7,
             "max_relative_positions": -1, "position_biased_input": false, "num_attention_heads": 12,
             "num_hidden_layers": 12, "type_vocab_size": 0, "vocab_size": 128100}
            """;

    @Test
    void debertaV3ConfigReadsAsTransformersReadsItAndRoundTrips() throws Exception {
        ModelConfig c = ModelConfig.parse(DEBERTA_V3_BASE, "deberta-v3-base/config.json");
        DebertaV2Config d = (DebertaV2Config) c.encoder();
        assertFalse(c.isClassifier());
        assertEquals(List.of("p2c", "c2p"), d.posAttType());
        assertEquals(512, d.maxRelativePositions(), "-1 means max_position_embeddings");
        assertEquals(256, d.attentionSpan());
        assertEquals(768, d.poolerHiddenSize(), "absent: hidden_size");
        assertEquals(0.1, d.classifierDropout(), "no cls_dropout: hidden_dropout_prob");
        assertFalse(d.usesTokenTypes());
        ModelConfig clf = c.withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL, HeadConfig.standard(d));
        assertEquals(new HeadConfig("linear", Pooling.POOLER, 0, "gelu", 0.1), clf.head());
        JsonNode written = JSON.readTree(clf.toJson());
        assertEquals("DebertaV2ForSequenceClassification", written.get("architectures").get(0).asText());
        ModelConfig back = ModelConfig.parse(clf.toJson(), "written");
        assertEquals(clf.encoder(), back.encoder());
        assertEquals(clf.head(), back.head());
        assertTrue(back.hasStandardHead());

        // A sparse config takes DebertaV2Config's own defaults, which are not DeBERTa-v3's.
        DebertaV2Config sparse = (DebertaV2Config) ModelConfig.parse("{\"model_type\": \"deberta-v2\"}", "x").encoder();
        assertFalse(sparse.relativeAttention());
        assertTrue(sparse.positionBiasedInput());
        assertEquals(-1, sparse.positionBuckets());
        assertEquals("none", sparse.normRelEbd());

        CheckpointException e = assertThrows(CheckpointException.class,
                () -> ModelConfig.parse("{\"model_type\": \"deberta-v2\", \"conv_kernel_size\": 3}", "xlarge/config.json"));
        assertTrue(e.getMessage().contains("xlarge/config.json") && e.getMessage().contains("conv_kernel_size"), e.getMessage());
    }
}
