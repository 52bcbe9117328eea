package org.finetune4j.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class LoraTest {
    static final List<String> TEXTS = List.of("the quick brown fox", "jumps over", "a lazy dog near the river bank today");
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    @TempDir
    Path dir;

    static TransformerModel classifier(EncoderConfig enc, long seed) {
        return TINY.random(TinyModels.classifier(enc, List.of("no", "yes")), seed);
    }

    private EncoderInput input(NDManager m, TransformerModel model) {
        return TestBatches.encode(m, TINY.tokenizer(), TEXTS, model.config().encoder().padTokenId(), 0);
    }

    /** Gives every lora_B random values so the adapter changes the output. */
    private static void perturbB(Lora lora, long seed) {
        java.util.Random r = new java.util.Random(seed);
        for (LoraLayer l : lora.layers()) {
            long[] shape = l.loraB.shape().getShape();
            float[] v = new float[(int) (shape[0] * shape[1])];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian() * 0.1f;
            }
            lora.model().parameters().set(l.loraB.name(), HostTensor.ofFloats(v, shape));
        }
    }

    @Test
    void freshAdapterIsANoOp() {
        try (NDManager m = TINY.manager().newSubManager(); TransformerModel model = classifier(TinyModels.bert(), 1)) {
            float[] before = model.logits(input(m, model), false).toFloatArray();
            Lora.inject(model, LoraConfig.of(8, 16, 0.05, List.of("query", "value")), 3);
            assertArrayEquals(before, model.logits(input(m, model), false).toFloatArray(), 0f);
        }
    }

    @Test
    void mergeUnmergeRoundTripsAndMergedEqualsWrapped() {
        try (NDManager m = TINY.manager().newSubManager(); TransformerModel model = classifier(TinyModels.bert(), 1)) {
            Map<String, HostTensor> base = model.parameters().stateDict(k -> true);
            Lora lora = Lora.inject(model, LoraConfig.of(4, 8, 0.0, List.of("query", "value", "intermediate.dense")), 3);
            perturbB(lora, 9);
            NDArray wrapped = model.logits(input(m, model), false);
            lora.merge();
            NDArray merged = model.logits(input(m, model), false);
            assertTrue(TestBatches.maxAbsDiff(wrapped, merged) < 1e-5, "merged forward equals the wrapped forward");
            String q = "bert.encoder.layer.0.attention.self.query.weight";
            assertFalse(base.get(q).sameAs(org.finetune4j.nn.ParameterStore.toHost(model.parameters().get(q).array())));
            lora.unmerge();
            for (var e : base.entrySet()) {
                float[] a = e.getValue().toFloats();
                float[] b = model.parameters().get(e.getKey()).array().toFloatArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-6, e.getKey());
                }
            }
        }
    }

    @Test
    void onlyLoraAndSavedModulesReceiveGradients() {
        try (TransformerModel model = classifier(TinyModels.distilbert(), 1)) {
            Lora lora = Lora.inject(model, LoraConfig.of(4, 8, 0.1, List.of("q_lin", "v_lin")), 3);
            List<Param> trainable = lora.makeTrainable();
            List<String> names = trainable.stream().map(Param::name).toList();
            assertEquals(2 * 2 * 2 + 4, names.size(), "2 layers x (q,v) x (A,B) + pre_classifier and classifier weight/bias");
            assertTrue(names.contains("pre_classifier.weight") && names.contains("classifier.bias"));
            try (NDManager m = TINY.manager().newSubManager()) {
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    gc.backward(model.logits(input(m, model), true).logSoftmax(-1).get(":, 1").neg().mean());
                }
                for (Param p : model.parameters().params().values()) {
                    assertEquals(p.trainable(), p.array().hasGradient(), p.name());
                    if (p.trainable() && !p.name().contains("lora_A")) { // lora_A's gradient is 0 while B is 0
                        NDArray g = p.array().getGradient();
                        g.attach(m);
                        assertTrue(g.abs().sum().getFloat() > 0, "gradient reaches " + p.name());
                    }
                }
            }
        }
    }

    /** The keys PEFT writes for a tiny BERT with query/value targets, written out by hand. */
    @Test
    void adapterFilesFollowPeftsFormatForBert() throws Exception {
        try (TransformerModel model = classifier(TinyModels.bert(), 1)) {
            Lora lora = Lora.inject(model, LoraConfig.of(8, 16, 0.05, List.of("query", "value")).withBaseModel("tiny-bert"), 3);
            lora.save(dir);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                for (String t : List.of("query", "value")) {
                    expected.add("base_model.model.bert.encoder.layer." + i + ".attention.self." + t + ".lora_A.weight");
                    expected.add("base_model.model.bert.encoder.layer." + i + ".attention.self." + t + ".lora_B.weight");
                }
            }
            expected.add("base_model.model.classifier.weight");
            expected.add("base_model.model.classifier.bias");
            try (SafeTensors st = SafeTensors.open(dir.resolve(Lora.WEIGHTS_FILE))) {
                assertEquals(new TreeSet<>(expected), new TreeSet<>(st.entries().keySet()));
                assertArrayEquals(new long[] {8, 32}, st.entries().get(expected.get(0)).shape());
                assertArrayEquals(new long[] {32, 8}, st.entries().get(expected.get(1)).shape());
                assertEquals("pt", st.metadata().get("format"));
            }
            JsonNode cfg = new ObjectMapper().readTree(dir.resolve(LoraConfig.FILE).toFile());
            assertEquals("LORA", cfg.get("peft_type").asText());
            assertEquals("SEQ_CLS", cfg.get("task_type").asText());
            assertEquals(8, cfg.get("r").asInt());
            assertEquals(16.0, cfg.get("lora_alpha").asDouble());
            assertEquals(0.05, cfg.get("lora_dropout").asDouble());
            assertEquals("[\"query\",\"value\"]", cfg.get("target_modules").toString());
            assertEquals("[\"classifier\",\"score\"]", cfg.get("modules_to_save").toString());
            assertEquals("none", cfg.get("bias").asText());
            assertEquals("tiny-bert", cfg.get("base_model_name_or_path").asText());
            assertFalse(cfg.has("use_rslora"), "use_rslora is written only when true (PEFT 0.6 refuses the key)");
            assertFalse(cfg.has("use_dora"), "PEFT before 0.9 refuses use_dora");
        }
    }

    @Test
    void adapterFilesFollowPeftsFormatForDistilBert() throws Exception {
        try (TransformerModel model = classifier(TinyModels.distilbert(), 1)) {
            Lora.inject(model, LoraConfig.of(4, 8, 0.05, List.of("q_lin", "v_lin")), 3).save(dir);
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                for (String t : List.of("q_lin", "v_lin")) {
                    expected.add("base_model.model.distilbert.transformer.layer." + i + ".attention." + t + ".lora_A.weight");
                    expected.add("base_model.model.distilbert.transformer.layer." + i + ".attention." + t + ".lora_B.weight");
                }
            }
            // modules_to_save "classifier" also matches "pre_classifier" (PEFT matches by name suffix).
            expected.addAll(List.of("base_model.model.pre_classifier.weight", "base_model.model.pre_classifier.bias",
                    "base_model.model.classifier.weight", "base_model.model.classifier.bias"));
            try (SafeTensors st = SafeTensors.open(dir.resolve(Lora.WEIGHTS_FILE))) {
                assertEquals(new TreeSet<>(expected), new TreeSet<>(st.entries().keySet()));
            }
        }
    }

    @Test
    void savedAdapterLoadsOntoAFreshBaseAndAdaptersSwitch() {
        try (NDManager m = TINY.manager().newSubManager();
                TransformerModel trained = classifier(TinyModels.bert(), 1);
                TransformerModel fresh = classifier(TinyModels.bert(), 1)) {
            float[] baseLogits = fresh.logits(input(m, fresh), false).toFloatArray();
            Lora a = Lora.inject(trained, LoraConfig.of(4, 8, 0.0, List.of("query", "value")), 3);
            perturbB(a, 1);
            float[] logitsA = trained.logits(input(m, trained), false).toFloatArray();
            Path dirA = dir.resolve("a");
            a.save(dirA);
            a.unload();
            Lora b = Lora.inject(trained, LoraConfig.of(2, 4, 0.0, List.of("all-linear")), 5);
            perturbB(b, 2);
            float[] logitsB = trained.logits(input(m, trained), false).toFloatArray();
            Path dirB = dir.resolve("b");
            b.save(dirB);

            Lora onFresh = Lora.load(fresh, dirA);
            assertArrayEquals(logitsA, fresh.logits(input(m, fresh), false).toFloatArray(), 1e-6f);
            onFresh.unload();
            assertArrayEquals(baseLogits, fresh.logits(input(m, fresh), false).toFloatArray(), 1e-6f, "unload restores the base");
            Lora.load(fresh, dirB);
            assertArrayEquals(logitsB, fresh.logits(input(m, fresh), false).toFloatArray(), 1e-6f, "switched without reloading");
        }
    }

    @Test
    void badInputIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LoraConfig.of(0, 16, 0.05, List.of("query")));
        assertTrue(e.getMessage().contains("r must be a positive integer"), e.getMessage());
        try (TransformerModel model = classifier(TinyModels.bert(), 1)) {
            e = assertThrows(IllegalArgumentException.class,
                    () -> Lora.inject(model, LoraConfig.of(4, 8, 0, List.of("q_lin", "value")), 1));
            assertTrue(e.getMessage().contains("[q_lin]") && e.getMessage().contains("attention.self.query")
                    && e.getMessage().contains("intermediate.dense"), e.getMessage());
            Lora.inject(model, LoraConfig.of(4, 8, 0, List.of("query")), 1).save(dir);
        }
        // An adapter of a hidden-32 BERT onto a hidden-48 BERT.
        BertConfig wider = new BertConfig("bert", TinyModels.VOCAB, 48, 2, 4, 37, "gelu", 0.1, 0.1, 64, 2, 0.02, 1e-12, 0, null);
        try (TransformerModel other = classifier(wider, 1)) {
            CheckpointException c = assertThrows(CheckpointException.class, () -> Lora.load(other, dir));
            assertTrue(c.getMessage().contains("does not fit") && c.getMessage().contains("[4, 32]")
                    && c.getMessage().contains("[4, 48]"), c.getMessage());
            assertTrue(other.encoder().linears().stream().allMatch(l -> l.adapter() == null), "nothing half-loaded");
        }
        try (TransformerModel distil = classifier(TinyModels.distilbert(), 1)) {
            CheckpointException c = assertThrows(CheckpointException.class, () -> Lora.load(distil, dir));
            assertTrue(c.getMessage().contains("does not have"), c.getMessage());
        }
    }
    /**
     * DeBERTa-v2: BERT's target names match nothing and the error names its own (query_proj, value_proj);
     * with those, a fresh adapter is a no-op, and a trained one gives the same logits wrapped and merged:
     * with share_att_key the wrapped query_proj also projects the relative embeddings (p2c), which the
     * merged weight does by itself (golden/peft-lora-deberta checks it against PEFT).
     */
    @Test
    void debertaTargetsItsQueryAndValueProjections() {
        try (NDManager m = TINY.manager().newSubManager(); TransformerModel model = classifier(TinyModels.deberta(), 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Lora.inject(model, LoraConfig.of(4, 8, 0, List.of("query", "value")), 1));
            assertTrue(e.getMessage().contains("--lora-target-modules query_proj,value_proj"), e.getMessage());
            assertTrue(e.getMessage().contains("attention.self.query_proj") && e.getMessage().contains(", pooler.dense"),
                    e.getMessage());
            float[] before = model.logits(input(m, model), false).toFloatArray();
            Lora lora = Lora.inject(model, LoraConfig.of(4, 8, 0, LoraConfig.queryValueTargets("deberta-v2")), 3);
            assertEquals(4, lora.layers().size(), "query_proj and value_proj of 2 layers");
            assertArrayEquals(before, model.logits(input(m, model), false).toFloatArray(), 0f);
            perturbB(lora, 5);
            NDArray wrapped = model.logits(input(m, model), false);
            assertTrue(TestBatches.maxAbsDiff(wrapped, m.create(before, wrapped.getShape())) > 1e-4, "the adapter changes the output");
            lora.merge();
            assertTrue(TestBatches.maxAbsDiff(wrapped, model.logits(input(m, model), false)) < 1e-5, "merged equals wrapped");
        }
    }

    /** The default targets (none named) are the architecture's query and value, as PEFT's target_modules=None. */
    @Test
    void theDefaultTargetsAreTheArchitecturesQueryAndValue() {
        for (String type : List.of("bert", "distilbert", "deberta-v2", "electra")) {
            try (TransformerModel model = classifier(TinyModels.of(type), 1)) {
                Lora lora = Lora.inject(model, LoraConfig.DEFAULTS, 3);
                assertEquals(LoraConfig.queryValueTargets(type), lora.config().targetModules(), type);
                assertEquals(4, lora.layers().size(), type + ": query and value of 2 layers");
            }
        }
        assertThrows(IllegalArgumentException.class, () -> LoraConfig.DEFAULTS.forModelType("gpt2"));
    }
}
