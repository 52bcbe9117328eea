package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.io.HostTensor;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** --reinit-top-layers: the top k layers and the pooler drawn again, everything else untouched, reproducibly. */
class ReinitTopLayersTest {
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    /** A 4-layer tiny BERT whose every weight is moved by +0.3, as a pre-trained model's would be off its init. */
    static TransformerModel pretrained() {
        BertConfig b = TinyModels.bert();
        BertConfig four = new BertConfig("bert", b.vocabSize(), b.hiddenSize(), 4, b.numHeads(), b.intermediateSize(),
                b.hiddenAct(), 0.1, 0.1, b.maxPositionEmbeddings(), b.typeVocabSize(), 0.02, b.layerNormEps(),
                b.padTokenId(), null);
        TransformerModel m = TINY.random(ModelConfig.encoderOnly(four).withClassifier(List.of("a", "b"),
                ProblemType.SINGLE_LABEL, HeadConfig.standard(four)), 5);
        for (var p : m.parameters().params().values()) {
            float[] v = p.array().toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] += 0.3f;
            }
            m.parameters().set(p.name(), HostTensor.ofFloats(v, p.shape().getShape()));
        }
        return m;
    }

    static Map<String, float[]> weights(TransformerModel m) {
        Map<String, float[]> out = new LinkedHashMap<>();
        m.parameters().params().values().forEach(p -> out.put(p.name(), p.array().toFloatArray()));
        return out;
    }

    static TrainingConfig reinit(int k, long seed) {
        return TrainingConfig.builder().reinitTopLayers(k).seed(seed).build();
    }

    @Test
    void theTopLayersAndThePoolerAreDrawnAgainAndTheRestIsUntouched() {
        try (TransformerModel m = pretrained()) {
            Map<String, float[]> before = weights(m);
            ReinitTopLayers.apply(m, reinit(2, 42));
            Map<String, float[]> after = weights(m);
            int linear = 0;
            for (String name : before.keySet()) {
                float[] a = after.get(name);
                boolean fresh = name.startsWith("bert.encoder.layer.2.") || name.startsWith("bert.encoder.layer.3.")
                        || name.startsWith("bert.pooler.");
                if (!fresh) {
                    assertArrayEquals(before.get(name), a, 0f, name + " is untouched, bit for bit");
                } else if (name.endsWith(".bias")) {
                    assertArrayEquals(new float[a.length], a, 0f, name + ": zeros");
                } else if (name.contains("LayerNorm")) {
                    float[] ones = new float[a.length];
                    java.util.Arrays.fill(ones, 1f);
                    assertArrayEquals(ones, a, 0f, name + ": ones");
                } else {
                    linear++;
                    double mean = 0, sq = 0;
                    for (float x : a) {
                        mean += x;
                        sq += (double) x * x;
                    }
                    mean /= a.length;
                    double std = Math.sqrt(sq / a.length - mean * mean);
                    assertEquals(0.02, std, 0.02 * 0.1, name + ": std of N(0, initializer_range)");
                    assertEquals(0, mean, 4 * 0.02 / Math.sqrt(a.length), name + ": mean");
                    float[] b = before.get(name);
                    for (int i = 0; i < a.length; i++) {
                        assertTrue(a[i] != b[i], name + "[" + i + "] is not the pre-trained value");
                    }
                }
            }
            assertEquals(2 * 6 + 1, linear, "six linear weights a layer (q, k, v, attention out, intermediate, out), the pooler's");
        }
    }

    @Test
    void theSameSeedGivesTheSameWeightsAndAnotherSeedOthers() {
        try (TransformerModel a = pretrained(); TransformerModel b = pretrained(); TransformerModel c = pretrained()) {
            ReinitTopLayers.apply(a, reinit(1, 42));
            ReinitTopLayers.apply(b, reinit(1, 42));
            ReinitTopLayers.apply(c, reinit(1, 43));
            String w = "bert.encoder.layer.3.attention.self.query.weight";
            Map<String, float[]> wa = weights(a);
            Map<String, float[]> wb = weights(b);
            for (String name : wa.keySet()) {
                assertArrayEquals(wa.get(name), wb.get(name), 0f, name);
            }
            assertFalse(java.util.Arrays.equals(wa.get(w), weights(c).get(w)), "seed 43 draws other weights");
        }
    }

    @Test
    void whatCannotBeHonouredIsRefused() {
        try (TransformerModel m = pretrained()) {
            var e = assertThrows(IllegalArgumentException.class, () -> ReinitTopLayers.apply(m, reinit(5, 1)));
            assertTrue(e.getMessage().contains("exceeds the model's 4 layers"), e.getMessage());
            TrainingConfig partial = TrainingConfig.builder().strategy("partial").frozenLayers(3).reinitTopLayers(2).build();
            e = assertThrows(IllegalArgumentException.class, () -> ReinitTopLayers.apply(m, partial));
            assertTrue(e.getMessage().contains("--frozen-layers 3"), e.getMessage());
        }
        try (TransformerModel albert = TINY.random(TinyModels.classifier(TinyModels.albert(), List.of("a", "b")), 3)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ReinitTopLayers.apply(albert, reinit(1, 1)));
            assertTrue(e.getMessage().contains("albert") && e.getMessage().contains("share weights"), e.getMessage());
        }
        for (String strategy : List.of("lora", "frozen")) {
            var e = assertThrows(IllegalArgumentException.class,
                    () -> TrainingConfig.builder().strategy(strategy).reinitTopLayers(1).build());
            assertTrue(e.getMessage().contains("reinit_top_layers 1 needs the re-initialised layers to train")
                    && e.getMessage().contains(strategy), e.getMessage());
        }
    }
}
