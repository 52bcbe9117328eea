package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Tiny random models of each architecture: names, shapes, save/load, masking, dropout, memory. */
class ArchitecturesTest {
    static final List<String> TEXTS = List.of("a short one", "Forest fire near La Ronge Sask. Canada",
            "13,000 people receive #wildfires evacuation orders in California", "ok");
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    @TempDir
    Path dir;

    static ModelConfig classifier(String type) {
        return TinyModels.classifier(TinyModels.of(type), List.of("neg", "pos", "neutral"));
    }

    /** The encoder's key prefix inside the classifier. */
    static String base(String type) {
        return type.equals("deberta-v2") ? "deberta." : type + ".";
    }

    private static List<String> layerKeys(String p, String... names) {
        List<String> out = new ArrayList<>();
        for (String n : names) {
            out.add(p + n + ".weight");
            out.add(p + n + ".bias");
        }
        return out;
    }

    /** The state-dict keys transformers' XForSequenceClassification has, written out by hand. */
    static List<String> expectedKeys(String type) {
        List<String> k = new ArrayList<>();
        switch (type) {
            case "bert", "roberta", "xlm-roberta" -> {
                String b = type.equals("bert") ? "bert." : "roberta."; // XLMRobertaForSequenceClassification keeps "roberta."
                k.addAll(List.of(b + "embeddings.word_embeddings.weight", b + "embeddings.position_embeddings.weight",
                        b + "embeddings.token_type_embeddings.weight", b + "embeddings.LayerNorm.weight",
                        b + "embeddings.LayerNorm.bias"));
                for (int i = 0; i < 2; i++) {
                    k.addAll(layerKeys(b + "encoder.layer." + i + ".", "attention.self.query", "attention.self.key",
                            "attention.self.value", "attention.output.dense", "attention.output.LayerNorm",
                            "intermediate.dense", "output.dense", "output.LayerNorm"));
                }
                if (type.equals("bert")) {
                    k.addAll(layerKeys(b + "pooler.", "dense"));
                    k.addAll(layerKeys("", "classifier"));
                } else {
                    k.addAll(layerKeys("classifier.", "dense", "out_proj"));
                }
            }
            case "electra" -> {
                k.addAll(List.of("electra.embeddings.word_embeddings.weight", "electra.embeddings.position_embeddings.weight",
                        "electra.embeddings.token_type_embeddings.weight", "electra.embeddings.LayerNorm.weight",
                        "electra.embeddings.LayerNorm.bias"));
                k.addAll(layerKeys("electra.", "embeddings_project"));
                for (int i = 0; i < 2; i++) {
                    k.addAll(layerKeys("electra.encoder.layer." + i + ".", "attention.self.query", "attention.self.key",
                            "attention.self.value", "attention.output.dense", "attention.output.LayerNorm",
                            "intermediate.dense", "output.dense", "output.LayerNorm"));
                }
                k.addAll(layerKeys("classifier.", "dense", "out_proj"));
            }
            case "distilbert" -> {
                k.addAll(List.of("distilbert.embeddings.word_embeddings.weight", "distilbert.embeddings.position_embeddings.weight",
                        "distilbert.embeddings.LayerNorm.weight", "distilbert.embeddings.LayerNorm.bias"));
                for (int i = 0; i < 2; i++) {
                    k.addAll(layerKeys("distilbert.transformer.layer." + i + ".", "attention.q_lin", "attention.k_lin",
                            "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1", "ffn.lin2", "output_layer_norm"));
                }
                k.addAll(layerKeys("", "pre_classifier", "classifier"));
            }
            case "deberta-v2" -> {
                k.addAll(List.of("deberta.embeddings.word_embeddings.weight", "deberta.embeddings.LayerNorm.weight",
                        "deberta.embeddings.LayerNorm.bias", "deberta.encoder.rel_embeddings.weight",
                        "deberta.encoder.LayerNorm.weight", "deberta.encoder.LayerNorm.bias"));
                for (int i = 0; i < 2; i++) {
                    k.addAll(layerKeys("deberta.encoder.layer." + i + ".", "attention.self.query_proj", "attention.self.key_proj",
                            "attention.self.value_proj", "attention.output.dense", "attention.output.LayerNorm",
                            "intermediate.dense", "output.dense", "output.LayerNorm"));
                }
                k.addAll(layerKeys("pooler.", "dense"));
                k.addAll(layerKeys("", "classifier"));
            }
            case "mpnet" -> {
                k.addAll(List.of("mpnet.embeddings.word_embeddings.weight", "mpnet.embeddings.position_embeddings.weight",
                        "mpnet.embeddings.LayerNorm.weight", "mpnet.embeddings.LayerNorm.bias",
                        "mpnet.encoder.relative_attention_bias.weight"));
                for (int i = 0; i < 2; i++) {
                    k.addAll(layerKeys("mpnet.encoder.layer." + i + ".", "attention.attn.q", "attention.attn.k", "attention.attn.v",
                            "attention.attn.o", "attention.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"));
                }
                k.addAll(layerKeys("classifier.", "dense", "out_proj"));
            }
            case "albert" -> {
                k.addAll(List.of("albert.embeddings.word_embeddings.weight", "albert.embeddings.position_embeddings.weight",
                        "albert.embeddings.token_type_embeddings.weight", "albert.embeddings.LayerNorm.weight",
                        "albert.embeddings.LayerNorm.bias"));
                k.addAll(layerKeys("albert.encoder.", "embedding_hidden_mapping_in"));
                // One layer group, one layer in it: both layers run these weights.
                k.addAll(layerKeys("albert.encoder.albert_layer_groups.0.albert_layers.0.", "attention.query", "attention.key",
                        "attention.value", "attention.dense", "attention.LayerNorm", "ffn", "ffn_output", "full_layer_layer_norm"));
                k.addAll(layerKeys("albert.", "pooler"));
                k.addAll(layerKeys("", "classifier"));
            }
            default -> throw new IllegalArgumentException(type);
        }
        return k;
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void parameterNamesAreTheTransformersStateDictKeys(String type) {
        try (TransformerModel m = TINY.random(classifier(type), 1)) {
            assertEquals(new java.util.TreeSet<>(expectedKeys(type)), new java.util.TreeSet<>(m.parameters().params().keySet()));
            // Linear weights are stored (out, in) as torch.nn.Linear stores them.
            String q = type.equals("distilbert") ? "distilbert.transformer.layer.0.ffn.lin1.weight"
                    : type.equals("albert") ? "albert.encoder.albert_layer_groups.0.albert_layers.0.ffn.weight"
                    : m.encoder().prefix() + "encoder.layer.0.intermediate.dense.weight";
            assertArrayEquals(new long[] {37, 32}, m.parameters().get(q).shape().getShape());
            if (type.equals("electra")) { // embedding_size 16 under hidden 32
                assertArrayEquals(new long[] {TinyModels.VOCAB, 16}, m.parameters().get("electra.embeddings.word_embeddings.weight")
                        .shape().getShape());
                assertArrayEquals(new long[] {32, 16}, m.parameters().get("electra.embeddings_project.weight").shape().getShape());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void saveLoadRoundTripIsBitIdentical(String type) {
        ModelConfig cfg = classifier(type);
        try (NDManager batch = TINY.manager().newSubManager();
                TransformerModel m = TINY.random(cfg, 7)) {
            EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, cfg.encoder().padTokenId(), 0);
            float[] before = m.logits(in, false).toFloatArray();
            m.save(dir);
            TransformerModel.Loaded loaded = TransformerModel.load(dir, TINY.manager());
            try (TransformerModel back = loaded.model()) {
                assertTrue(loaded.report().clean(), loaded.report().summary());
                Map<String, HostTensor> a = m.parameters().stateDict(k -> true);
                Map<String, HostTensor> b = back.parameters().stateDict(k -> true);
                assertEquals(a.keySet(), b.keySet());
                a.forEach((k, v) -> assertTrue(v.sameAs(b.get(k)), k));
                assertArrayEquals(before, back.logits(in, false).toFloatArray(), 0f);
                assertEquals(cfg.labels(), back.config().labels());
                assertEquals(cfg.encoder(), back.config().encoder(), "config.json round-trips, model_type included");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void paddingDoesNotChangeRealTokenOutputs(String type) {
        ModelConfig cfg = classifier(type);
        int pad = cfg.encoder().padTokenId();
        try (NDManager batch = TINY.manager().newSubManager();
                TransformerModel m = TINY.random(cfg, 3)) {
            int[] len = TestBatches.lengths(TINY.tokenizer(), TEXTS);
            EncoderInput tight = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, pad, 0);
            EncoderInput loose = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, pad, 40);
            NDArray a = m.encode(tight, false).lastHiddenState();
            NDArray b = m.encode(loose, false).lastHiddenState();
            for (int i = 0; i < TEXTS.size(); i++) {
                NDArray ra = a.get(i + ", :" + len[i] + ", :");
                NDArray rb = b.get(i + ", :" + len[i] + ", :");
                assertTrue(TestBatches.maxAbsDiff(ra, rb) <= 1e-5, type + " row " + i + ": " + TestBatches.maxAbsDiff(ra, rb));
                // Each row alone, unpadded, gives the same as inside the padded batch.
                EncoderInput single = TestBatches.encode(batch, TINY.tokenizer(), List.of(TEXTS.get(i)), pad, 0);
                NDArray rs = m.encode(single, false).lastHiddenState().get(0);
                assertTrue(TestBatches.maxAbsDiff(ra, rs) <= 1e-5, type + " row " + i + " alone");
            }
            assertTrue(TestBatches.maxAbsDiff(m.logits(tight, false), m.logits(loose, false)) <= 1e-5);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void dropoutOnlyWhileTraining(String type) {
        ModelConfig cfg = classifier(type);
        try (NDManager batch = TINY.manager().newSubManager();
                TransformerModel m = TINY.random(cfg, 5)) {
            EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, cfg.encoder().padTokenId(), 0);
            float[] e1 = m.logits(in, false).toFloatArray();
            float[] e2 = m.logits(in, false).toFloatArray();
            assertArrayEquals(e1, e2, 0f, "inference is deterministic");
            float[] t1 = m.logits(in, true).toFloatArray();
            float[] t2 = m.logits(in, true).toFloatArray();
            assertNotEquals(java.util.Arrays.toString(t1), java.util.Arrays.toString(t2), "dropout active in training");
            assertNotEquals(java.util.Arrays.toString(e1), java.util.Arrays.toString(t1));
        }
    }

    /** No op on a parameter may attach its result to the long-lived parameter memory (DJL-NOTES.md). */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void forwardAndBackwardLeaveNoArraysInParameterMemory(String type) {
        ModelConfig cfg = classifier(type);
        try (TransformerModel m = TINY.random(cfg, 5)) {
            m.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
            int before = ((ai.djl.ndarray.BaseNDManager) m.manager()).getManagedArrays().size();
            for (int step = 0; step < 3; step++) {
                try (NDManager batch = TINY.manager().newSubManager()) {
                    EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, cfg.encoder().padTokenId(), 0);
                    try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray loss = m.logits(in, true).logSoftmax(-1).get(":, 0").neg().mean();
                        gc.backward(loss);
                    }
                }
            }
            assertEquals(before, ((ai.djl.ndarray.BaseNDManager) m.manager()).getManagedArrays().size());
        }
    }

    /**
     * A frozen backbone caches what never changes: BERT's first-token states when its pooler trains,
     * else the pooled features. The rest, from the cache, gives the logits of the whole model, bit for bit.
     */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void logitsFromCachedFeaturesAreTheModelsLogits(String type) {
        ModelConfig cfg = classifier(type);
        try (NDManager batch = TINY.manager().newSubManager(); TransformerModel m = TINY.random(cfg, 3)) {
            EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, cfg.encoder().padTokenId(), 0);
            float[] logits = m.logits(in, false).toFloatArray();
            for (boolean poolerTrains : new boolean[] {true, false}) {
                NDArray cached = m.cacheableFeatures(in, poolerTrains); // (B, H)
                assertArrayEquals(logits, m.logitsFromCached(cached, poolerTrains, false).toFloatArray(),
                        type + ", pooler trains: " + poolerTrains);
            }
            assertEquals(Set.of("bert", "deberta-v2", "albert").contains(type), m.usesPooler());
            if (!m.usesPooler()) {
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> m.encoder().pooler(batch.zeros(new ai.djl.ndarray.types.Shape(1, cfg.encoder().hiddenSize())), false));
                assertTrue(e.getMessage().contains("has no pooler"), e.getMessage());
            }
        }
    }

    /**
     * The DeBERTa-v2 layouts the golden fixtures do not hold: no relative attention at all (the class
     * default), c2p alone with its own pos_key_proj, and unbucketed with absolute positions and token
     * types. Each gives every real token the same state however much padding follows.
     */
    @ParameterizedTest
    @ValueSource(strings = {"none", "c2p", "v2"})
    void debertaLayoutsArePaddingInvariant(String layout) {
        org.finetune4j.config.DebertaV2Config t = TinyModels.deberta();
        org.finetune4j.config.DebertaV2Config c = new org.finetune4j.config.DebertaV2Config(t.vocabSize(), 32, 2, 4, 37, "gelu",
                0.1, 0.1, 64, layout.equals("v2") ? 2 : 0, 0.02, 1e-7, 0, !layout.equals("none"), -1,
                layout.equals("v2") ? -1 : 8, layout.equals("c2p") ? List.of("c2p") : List.of("p2c", "c2p"),
                layout.equals("v2") ? "none" : "layer_norm", false, layout.equals("v2"), 32, 0, "gelu", null);
        ModelConfig cfg = TinyModels.classifier(c, List.of("a", "b"));
        try (NDManager batch = TINY.manager().newSubManager(); TransformerModel m = TINY.random(cfg, 3)) {
            boolean ownKey = m.parameters().params().containsKey("deberta.encoder.layer.0.attention.self.pos_key_proj.weight");
            assertEquals(!layout.equals("none"), ownKey, "pos_key_proj exists exactly with c2p and no shared key");
            assertEquals(layout.equals("v2"), m.parameters().params().containsKey("deberta.embeddings.position_embeddings.weight"));
            int[] len = TestBatches.lengths(TINY.tokenizer(), TEXTS);
            NDArray a = m.encode(TestBatches.encode(batch, TINY.tokenizer(), TEXTS, 0, 0), false).lastHiddenState();
            NDArray b = m.encode(TestBatches.encode(batch, TINY.tokenizer(), TEXTS, 0, 40), false).lastHiddenState();
            for (int i = 0; i < TEXTS.size(); i++) {
                double d = TestBatches.maxAbsDiff(a.get(i + ", :" + len[i] + ", :"), b.get(i + ", :" + len[i] + ", :"));
                assertTrue(d <= 1e-5, layout + " row " + i + ": " + d);
            }
        }
    }

    /**
     * PEFT's default target modules for each model type wrap the query and value projections of every
     * layer: of each distinct layer, as ALBERT's two layers run one set of weights (one adapter, as PEFT
     * wraps the one shared module).
     */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void peftsDefaultLoraTargetsWrapQueryAndValue(String type) {
        try (TransformerModel m = TINY.random(classifier(type), 1)) {
            List<String> targets = LoraConfig.queryValueTargets(type);
            Lora.inject(m, LoraConfig.DEFAULTS, 1);
            long layers = type.equals("albert") ? 1 : 2;
            List<String> wrapped = m.encoder().linears().stream().filter(l -> l.adapter() != null).map(l -> l.name()).toList();
            assertEquals(2 * layers, wrapped.size(), wrapped.toString());
            assertTrue(wrapped.stream().allMatch(n -> n.endsWith("." + targets.get(0)) || n.endsWith("." + targets.get(1))),
                    wrapped.toString());
        }
    }

    @Test
    void bareEncoderLoadsIntoAClassifierWithANewHead() {
        ModelConfig bare = ModelConfig.encoderOnly(TinyModels.bert());
        try (TransformerModel base = TINY.random(bare, 11)) {
            base.save(dir);
            TransformerModel.Loaded l = TransformerModel.fromPretrained(dir, TINY.manager(),
                    c -> c.withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL, HeadConfig.standard(c.encoder())), true, 3);
            try (TransformerModel clf = l.model()) {
                assertEquals(List.of("classifier.weight", "classifier.bias"), l.report().missing());
                assertTrue(l.report().summary().contains("newly initialized"));
                HostTensor src = base.parameters().stateDict(k -> k.equals("encoder.layer.1.output.dense.weight"))
                        .get("encoder.layer.1.output.dense.weight");
                assertTrue(src.sameAs(ParamsView.get(clf, "bert.encoder.layer.1.output.dense.weight")));
            }
        }
    }

    /**
     * An electra-base-style discriminator checkpoint (embedding_size = hidden_size, so no embeddings_project;
     * ElectraForPreTraining's discriminator_predictions head) fine-tunes as transformers loads it: the
     * encoder under "electra.", the pre-training head dropped, a new classification head.
     */
    @Test
    void anElectraPreTrainingCheckpointLoadsIntoAClassifier() {
        org.finetune4j.config.ElectraConfig e = TinyModels.electra();
        org.finetune4j.config.ElectraConfig base = new org.finetune4j.config.ElectraConfig(e.vocabSize(), e.hiddenSize(),
                e.hiddenSize(), e.numLayers(), e.numHeads(), e.intermediateSize(), e.hiddenAct(), e.hiddenDropout(),
                e.attentionDropout(), e.maxPositionEmbeddings(), e.typeVocabSize(), e.initializerRange(), e.layerNormEps(),
                e.padTokenId(), null);
        try (TransformerModel bare = TINY.random(ModelConfig.encoderOnly(base), 8)) {
            Map<String, HostTensor> sd = new java.util.LinkedHashMap<>();
            bare.parameters().stateDict(k -> true).forEach((k, v) -> sd.put("electra." + k, v));
            assertTrue(sd.keySet().stream().noneMatch(k -> k.contains("embeddings_project")), "E = H: no projection");
            sd.put("discriminator_predictions.dense.weight", HostTensor.ofFloats(new float[32 * 32], 32, 32));
            sd.put("discriminator_predictions.dense.bias", HostTensor.ofFloats(new float[32], 32));
            sd.put("discriminator_predictions.dense_prediction.weight", HostTensor.ofFloats(new float[32], 1, 32));
            sd.put("discriminator_predictions.dense_prediction.bias", HostTensor.ofFloats(new float[1], 1));
            WeightFiles.write(dir, sd, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            ModelConfig.encoderOnly(base).write(dir);
            TransformerModel.Loaded l = TransformerModel.fromPretrained(dir, TINY.manager(),
                    c -> c.withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL, HeadConfig.standard(c.encoder())), true, 3);
            try (TransformerModel clf = l.model()) {
                assertEquals(List.of("classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                        "classifier.out_proj.bias"), l.report().missing());
                assertEquals(4, l.report().ignored().size(), l.report().summary());
                assertTrue(sd.get("electra.encoder.layer.1.output.dense.weight")
                        .sameAs(ParamsView.get(clf, "electra.encoder.layer.1.output.dense.weight")));
                assertEquals("gelu", clf.config().head().activation(), "ElectraClassificationHead's GELU");
            }
        }
    }

    @Test
    void classifierLoadsAsABareEncoderDroppingItsHead() {
        try (TransformerModel clf = TINY.random(classifier("distilbert"), 2)) {
            clf.save(dir);
            TransformerModel.Loaded l = TransformerModel.fromPretrained(dir, TINY.manager(),
                    c -> ModelConfig.encoderOnly(c.encoder()), true, 0);
            try (TransformerModel enc = l.model()) {
                assertTrue(l.report().missing().isEmpty());
                assertEquals(List.of("pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias"),
                        l.report().ignored());
                assertTrue(ParamsView.get(clf, "distilbert.transformer.layer.0.attention.q_lin.weight")
                        .sameAs(ParamsView.get(enc, "transformer.layer.0.attention.q_lin.weight")));
            }
        }
    }

    @Test
    void legacyLayerNormNamesGammaBetaLoad() {
        ModelConfig bare = ModelConfig.encoderOnly(TinyModels.bert());
        try (TransformerModel base = TINY.random(bare, 4)) {
            Map<String, HostTensor> sd = new java.util.LinkedHashMap<>();
            base.parameters().stateDict(k -> true).forEach((k, v) -> sd.put(
                    k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), v));
            WeightFiles.write(dir, sd, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            bare.write(dir);
            TransformerModel.Loaded l = TransformerModel.load(dir, TINY.manager());
            try (TransformerModel back = l.model()) {
                assertTrue(l.report().clean(), l.report().summary());
                assertTrue(sd.get("embeddings.LayerNorm.gamma").sameAs(ParamsView.get(back, "embeddings.LayerNorm.weight")));
            }
        }
    }

    @Test
    void strictLoadingReportsMissingUnexpectedAndMismatchedKeys() {
        ModelConfig cfg = classifier("bert");
        try (TransformerModel m = TINY.random(cfg, 1)) {
            Map<String, HostTensor> sd = m.parameters().stateDict(k -> true);
            cfg.write(dir);

            Map<String, HostTensor> missing = new java.util.LinkedHashMap<>(sd);
            missing.remove("bert.encoder.layer.1.attention.self.key.weight");
            WeightFiles.write(dir, missing, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            CheckpointException e = assertThrows(CheckpointException.class, () -> TransformerModel.load(dir, TINY.manager()));
            assertTrue(e.getMessage().contains("bert.encoder.layer.1.attention.self.key.weight"), e.getMessage());

            Map<String, HostTensor> extra = new java.util.LinkedHashMap<>(sd);
            extra.put("bert.encoder.layer.9.output.dense.weight", HostTensor.ofFloats(new float[] {1}, 1));
            WeightFiles.write(dir, extra, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            e = assertThrows(CheckpointException.class, () -> TransformerModel.load(dir, TINY.manager()));
            assertTrue(e.getMessage().contains("bert.encoder.layer.9.output.dense.weight"), e.getMessage());

            Map<String, HostTensor> wrong = new java.util.LinkedHashMap<>(sd);
            wrong.put("classifier.weight", HostTensor.ofFloats(new float[64], 2, 32));
            WeightFiles.write(dir, wrong, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            e = assertThrows(CheckpointException.class, () -> TransformerModel.load(dir, TINY.manager()));
            assertTrue(e.getMessage().contains("\"classifier.weight\": checkpoint shape [2, 32], model shape [3, 32]"),
                    e.getMessage());

            Map<String, HostTensor> ints = new java.util.LinkedHashMap<>(sd);
            ints.put("classifier.bias", HostTensor.ofLongs(new long[] {1, 2, 3}, 3));
            WeightFiles.write(dir, ints, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            e = assertThrows(CheckpointException.class, () -> TransformerModel.load(dir, TINY.manager()));
            assertTrue(e.getMessage().contains("classifier.bias") && e.getMessage().contains("I64"), e.getMessage());
        }
    }

    @Test
    void aTokenizerLargerThanTheVocabularyIsRefused() {
        CheckpointException e = assertThrows(CheckpointException.class, () -> TINY.tokenizer().checkCompatible(1000, "m/"));
        assertTrue(e.getMessage().contains("30522") && e.getMessage().contains("1000"), e.getMessage());
        TINY.tokenizer().checkCompatible(TinyModels.VOCAB, "m/");
    }

    /** Test access to one parameter's value. */
    static final class ParamsView {
        static HostTensor get(TransformerModel m, String key) {
            Param p = m.parameters().get(key);
            return org.finetune4j.nn.ParameterStore.toHost(p.array());
        }
    }
}
