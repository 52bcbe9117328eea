package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.AlbertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.HostTensor;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.train.AdamW;
import org.finetune4j.train.Strategies;
import org.finetune4j.train.Strategy;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.Test;

/**
 * ALBERT's shared layers: one parameter run by several layers. Its gradient must be the sum over the
 * layers that ran it (what PyTorch gives the shared module), the optimizer must update it once per step,
 * and freezing by layer must not split layers that share weights.
 */
class AlbertSharedLayersTest {
    static final String SHARED = "albert.encoder.albert_layer_groups.0.albert_layers.0.";

    /** Tiny ALBERT without dropout, weights drawn with std 0.2 (as the golden fixtures): 2 layers running {@code groups} groups. */
    static AlbertConfig albert(int groups) {
        AlbertConfig t = TinyModels.albert();
        return new AlbertConfig(128, t.embeddingSize(), t.hiddenSize(), 2, groups, t.numHeads(), t.intermediateSize(),
                t.innerGroupNum(), t.hiddenAct(), 0.0, 0.0, t.maxPositionEmbeddings(), t.typeVocabSize(), 0.2,
                t.layerNormEps(), 0.0, t.padTokenId(), t.bosTokenId(), t.eosTokenId());
    }

    static TransformerModel classifier(AlbertConfig c, NDManager m, long seed) {
        return TransformerModel.random(TinyModels.classifier(c, List.of("a", "b")), m, seed);
    }

    static EncoderInput batch(NDManager m) {
        long[] ids = {2, 17, 40, 99, 3, 0, 2, 55, 3, 0, 0, 0};
        long[] mask = {1, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0};
        Shape s = new Shape(2, 6);
        return new EncoderInput(m.create(ids, s), m.create(mask, s), null);
    }

    /** Loss -log p(label 0), backward; returns the logits. */
    static float[] backward(TransformerModel model, EncoderInput in) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logits = model.logits(in, true);
            gc.backward(logits.logSoftmax(-1).get(":, 0").neg().mean());
            return logits.toFloatArray();
        }
    }

    @Test
    void theSharedLayersGradientIsTheSumOverTheLayersThatRanIt() {
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel shared = classifier(albert(1), m, 5);
                TransformerModel unshared = classifier(albert(2), m, 6)) {
            // The unshared twin: each layer its own group, both groups holding the shared layer's weights.
            Map<String, HostTensor> weights = shared.parameters().stateDict(k -> true);
            for (String k : unshared.parameters().params().keySet()) {
                unshared.parameters().set(k, weights.get(k.replace("albert_layer_groups.1.", "albert_layer_groups.0.")));
            }
            shared.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
            unshared.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
            try (NDManager b = m.newSubManager()) {
                EncoderInput in = batch(b);
                assertArrayEquals(backward(unshared, in), backward(shared, in), 0f, "the same computation");
                for (String w : List.of("attention.query.weight", "attention.value.bias", "ffn.weight",
                        "full_layer_layer_norm.weight")) {
                    float[] sum = grad(unshared, "albert.encoder.albert_layer_groups.0.albert_layers.0." + w, b)
                            .add(grad(unshared, "albert.encoder.albert_layer_groups.1.albert_layers.0." + w, b)).toFloatArray();
                    float[] got = grad(shared, SHARED + w, b).toFloatArray();
                    assertTrue(max(sum) > 0, w + " got a gradient");
                    assertArrayEquals(sum, got, 1e-6f * Math.max(1f, max(sum)), w);
                }
            }
        }
    }

    /** Adam's first step moves every weight by about lr (m̂ / sqrt(v̂) = ±1): once, not once per layer. */
    @Test
    void theOptimizerUpdatesASharedWeightOncePerStep() {
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = classifier(albert(1), m, 5)) {
            List<Param> params = List.copyOf(model.parameters().params().values());
            params.forEach(p -> p.array().setRequiresGradient(true));
            String name = SHARED + "attention.query.weight";
            float[] before = model.parameters().get(name).array().toFloatArray();
            double lr = 1e-3;
            try (NDManager b = m.newSubManager(); AdamW opt = new AdamW(params, AdamW::decaysByDefault,
                    AdamW.Settings.defaults(0.0), m)) {
                backward(model, batch(b));
                float[] g = grad(model, name, b).toFloatArray();
                opt.step(lr, 1, b);
                float[] after = model.parameters().get(name).array().toFloatArray();
                int checked = 0;
                for (int i = 0; i < g.length; i++) {
                    if (Math.abs(g[i]) > 1e-6) { // then eps (1e-8) changes the step by under 1 %
                        assertEquals(-Math.signum(g[i]) * lr, after[i] - before[i], 0.02 * lr, "element " + i);
                        checked++;
                    }
                }
                assertTrue(checked > g.length / 2, checked + " of " + g.length + " elements checked; max abs gradient " + max(g));
            }
        }
    }

    @Test
    void partialTrainingRefusesToSplitLayersThatShareWeights() {
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = classifier(albert(1), m, 1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Strategies.apply(model, partial(1), java.util.Set.of()));
            assertTrue(e.getMessage().contains("--frozen-layers 1 cannot be honoured") && e.getMessage().contains("[0, 2]")
                    && e.getMessage().contains(SHARED.substring(0, SHARED.length() - "albert_layers.0.".length())), e.getMessage());

            // 2 of 2: the embeddings and the shared layer freeze; the projection to H, pooler and head train.
            List<Param> trainable = Strategies.apply(model, partial(2), java.util.Set.of());
            assertTrue(trainable.stream().noneMatch(p -> p.name().startsWith(SHARED) || p.name().startsWith("albert.embeddings.")));
            assertTrue(trainable.stream().anyMatch(p -> p.name().equals("classifier.weight")));
            // 0: only the embeddings freeze, as for BERT.
            trainable = Strategies.apply(model, partial(0), java.util.Set.of());
            assertTrue(trainable.stream().anyMatch(p -> p.name().startsWith(SHARED)));
            assertTrue(trainable.stream().noneMatch(p -> p.name().startsWith("albert.embeddings.")));
        }
        // With a group per layer, layers freeze apart.
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = classifier(albert(2), m, 1)) {
            List<Param> trainable = Strategies.apply(model, partial(1), java.util.Set.of());
            assertTrue(trainable.stream().noneMatch(p -> p.name().contains("albert_layer_groups.0.")));
            assertTrue(trainable.stream().anyMatch(p -> p.name().contains("albert_layer_groups.1.")));
        }
    }

    private static TrainingConfig partial(int frozen) {
        return TrainingConfig.builder().strategy(Strategy.PARTIAL).frozenLayers(frozen).build();
    }

    private static NDArray grad(TransformerModel model, String name, NDManager into) {
        NDArray g = model.parameters().get(name).array().getGradient();
        g.attach(into);
        return g;
    }

    private static float max(float[] a) {
        float out = 0;
        for (float x : a) {
            out = Math.max(out, Math.abs(x));
        }
        return out;
    }

    @Test
    void modelConfigRoundTripsEveryAlbertField() {
        AlbertConfig c = albert(2);
        ModelConfig back = ModelConfig.parse(ModelConfig.encoderOnly(c).toJson(), "test");
        assertEquals(c, back.encoder());
    }
}
