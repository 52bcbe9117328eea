package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Layer-wise learning-rate decay: each parameter's depth, and one AdamW step at each depth's rate, by hand. */
class LayerwiseLrTest {
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    static final double LR = 1e-3;
    static final double GAMMA = 0.5;
    static final double WD = 0.01;

    /** A 4-layer tiny BERT, so there is a middle layer between the lowest and the top one. */
    static TransformerModel fourLayers() {
        BertConfig b = TinyModels.bert();
        BertConfig four = new BertConfig("bert", b.vocabSize(), b.hiddenSize(), 4, b.numHeads(), b.intermediateSize(),
                b.hiddenAct(), 0.0, 0.0, b.maxPositionEmbeddings(), b.typeVocabSize(), b.initializerRange(), b.layerNormEps(),
                b.padTokenId(), null);
        ModelConfig cfg = ModelConfig.encoderOnly(four).withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL,
                HeadConfig.standard(four));
        return TINY.random(cfg, 5);
    }

    @Test
    void theHeadTrainsAtTheRateAndEachLayerDownAtGammaTimesTheOneAbove() {
        try (TransformerModel m = fourLayers()) {
            LayerwiseLr l = LayerwiseLr.of(m);
            assertEquals(4, l.layers());
            assertEquals(1.0, l.scale("classifier.weight", GAMMA));
            assertEquals(1.0, l.scale("bert.pooler.dense.weight", GAMMA));
            assertEquals(0.5, l.scale("bert.encoder.layer.3.output.dense.weight", GAMMA), "top layer: lr γ");
            assertEquals(0.125, l.scale("bert.encoder.layer.1.attention.self.query.bias", GAMMA), "layer 1: lr γ^3");
            assertEquals(0.0625, l.scale("bert.encoder.layer.0.output.LayerNorm.weight", GAMMA), "layer 0: lr γ^L");
            assertEquals(0.03125, l.scale("bert.embeddings.word_embeddings.weight", GAMMA), "embeddings: lr γ^(L+1)");
            assertEquals(0.5, l.scale("bert.encoder.layer.3.attention.self.query.lora_A.weight", GAMMA),
                    "a LoRA matrix follows the layer it sits in");
            for (String name : m.parameters().params().keySet()) {
                assertEquals(1.0, l.scale(name, 1.0), name + ": γ = 1 is the base rate exactly");
            }
        }
    }

    /** Depth of every parameter of each architecture's tiny classifier, by the rule in LayerwiseLr's comment. */
    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "electra", "deberta-v2", "mpnet", "albert"})
    void everyArchitectureGetsEveryDepth(String type) {
        var enc = TinyModels.of(type);
        ModelConfig cfg = ModelConfig.encoderOnly(enc).withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL,
                HeadConfig.standard(enc));
        try (TransformerModel m = TINY.random(cfg, 3)) {
            LayerwiseLr l = LayerwiseLr.of(m);
            int top = l.layers() + 1; // 3: two layers
            Map<Integer, List<String>> byDepth = new TreeMap<>();
            for (String name : m.parameters().params().keySet()) {
                byDepth.computeIfAbsent(l.depth(name), d -> new ArrayList<>()).add(name);
            }
            String layer = type.equals("distilbert") ? ".transformer.layer." : ".encoder.layer.";
            for (var e : byDepth.entrySet()) {
                for (String name : e.getValue()) {
                    int expected;
                    if (name.startsWith("classifier") || name.startsWith("pre_classifier") || name.contains("pooler")) {
                        expected = top;
                    } else if (type.equals("albert") && name.contains(".albert_layer_groups.0.")) {
                        expected = 2; // one group shared by both layers: the top layer's rate
                    } else if (name.contains(layer + "0.")) {
                        expected = 1;
                    } else if (name.contains(layer + "1.")) {
                        expected = 2;
                    } else {
                        expected = 0; // embeddings, their projections, shared relative positions
                    }
                    assertEquals(expected, e.getKey(), type + " " + name);
                }
            }
            assertEquals(type.equals("albert") ? new TreeSet<>(List.of(0, 2, 3)) : new TreeSet<>(List.of(0, 1, 2, 3)),
                    new TreeSet<>(byDepth.keySet()), type + ": " + byDepth);
            assertTrue(byDepth.get(0).stream().anyMatch(n -> n.contains("word_embeddings")), type + ": " + byDepth.get(0));
            switch (type) {
                case "deberta-v2" -> assertTrue(byDepth.get(0).containsAll(
                        List.of("deberta.encoder.rel_embeddings.weight", "deberta.encoder.LayerNorm.weight")), byDepth.get(0).toString());
                case "electra" -> assertTrue(byDepth.get(0).contains("electra.embeddings_project.weight"), byDepth.get(0).toString());
                case "mpnet" -> assertTrue(byDepth.get(0).contains("mpnet.encoder.relative_attention_bias.weight"), byDepth.get(0).toString());
                case "albert" -> assertTrue(byDepth.get(0).contains("albert.encoder.embedding_hidden_mapping_in.weight"), byDepth.get(0).toString());
                default -> { }
            }
        }
    }

    /**
     * After one step with known gradients g, each weight is, by hand (the first AdamW step: m̂ = g, v̂ = g²),
     * {@code p (1 - lr_p wd) - lr_p g / (|g| + eps)} with {@code lr_p} its own depth's rate (no decay for
     * biases and LayerNorm). On the CPU loop and on the accelerator's tensor ops.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void oneStepMovesEachParameterAtItsOwnRate(boolean cpuLoop) {
        try (TransformerModel m = fourLayers(); NDManager scratch = TINY.manager().newSubManager()) {
            LayerwiseLr l = LayerwiseLr.of(m);
            List<Param> params = new ArrayList<>(m.parameters().params().values());
            params.forEach(p -> p.array().setRequiresGradient(true));
            Map<String, float[]> before = new TreeMap<>();
            Map<String, float[]> grads = new TreeMap<>();
            SplittableRandom r = new SplittableRandom(11);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = null;
                for (Param p : params) {
                    float[] g = new float[Math.toIntExact(p.numel())];
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (float) r.nextGaussian();
                    }
                    grads.put(p.name(), g);
                    before.put(p.name(), p.array().toFloatArray());
                    NDArray term = p.array().mul(scratch.create(g, p.shape())).sum(); // d term / d p = g
                    loss = loss == null ? term : loss.add(term);
                }
                gc.backward(loss);
            }
            AdamW.Settings settings = AdamW.Settings.defaults(WD);
            try (AdamW opt = new AdamW(params, AdamW::decaysByDefault, name -> l.scale(name, GAMMA), settings,
                    TINY.manager(), cpuLoop ? new CpuUpdate() : new TensorOpUpdate())) {
                opt.step(LR, 1.0, scratch);
            }
            for (String name : List.of("bert.embeddings.word_embeddings.weight", "bert.embeddings.LayerNorm.weight",
                    "bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.1.output.dense.bias",
                    "bert.encoder.layer.3.intermediate.dense.weight", "bert.pooler.dense.weight", "classifier.bias")) {
                double lr = LR * Math.pow(GAMMA, 5 - l.depth(name));
                double decay = AdamW.decaysByDefault(name) ? 1 - lr * WD : 1;
                float[] p0 = before.get(name);
                float[] g = grads.get(name);
                float[] p1 = m.parameters().get(name).array().toFloatArray();
                double moved = 0;
                for (int i = 0; i < p0.length; i++) {
                    double want = p0[i] * decay - lr * g[i] / (Math.abs(g[i]) + settings.eps());
                    assertEquals(want, p1[i], 4 * Math.ulp((float) Math.abs(want)) + 1e-3 * lr * Math.abs(g[i]) / (Math.abs(g[i]) + 1e-8),
                            name + "[" + i + "]");
                    moved += Math.abs(p1[i] - p0[i]);
                }
                // Each weight moves by about its rate (|g| / (|g| + eps) ~ 1, the decay is 1e-5 of that).
                assertEquals(lr, moved / p0.length, 0.02 * lr, name + " moves by its own rate");
            }
        }
    }
}
