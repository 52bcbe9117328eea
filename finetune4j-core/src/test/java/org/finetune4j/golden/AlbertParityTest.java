package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.List;
import org.finetune4j.config.AlbertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TokenLayout;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AlbertForSequenceClassification against transformers 4.37.2 (golden/albert-seqcls): factorised
 * embeddings, one layer's weights run by both layers, gelu_new, the pooler head; logits, loss, hidden
 * states, each row alone, and our own save and load. Tolerance 1e-5 abs, the README's for this fixture.
 */
@NeedsSharedData
class AlbertParityTest {
    static final double TOL = 1e-5;

    @TempDir
    Path dir;

    @Test
    void logitsLossAndHiddenStates() {
        Golden g = Golden.fixture("albert-seqcls");
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerModel.Loaded loaded = TransformerModel.load(g.dir(), m);
            try (TransformerModel model = loaded.model()) {
                assertTrue(loaded.report().clean(), loaded.report().summary());
                // One shared layer: the checkpoint's tensors are all the model has, none per layer.
                assertEquals(SafeTensors.readFile(g.dir().resolve("model.safetensors")).keySet(),
                        model.parameters().params().keySet());
                assertTrue(model.parameters().params().keySet().stream().filter(k -> k.contains("albert_layers."))
                        .allMatch(k -> k.startsWith("albert.encoder.albert_layer_groups.0.albert_layers.0.")));
                EncoderInput in = g.encoderInput(m);
                ForwardChecks.checkClassifier(g, model, in, TOL);
            }
        }
    }

    /** hidden_states_1, the first layer's output: the checkpoint loaded into a one-layer ALBERT (same weights). */
    @Test
    void theFirstLayersOutput() {
        Golden g = Golden.fixture("albert-seqcls");
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerModel.Loaded loaded = TransformerModel.fromPretrained(g.dir(), m, c -> {
                AlbertConfig e = (AlbertConfig) c.encoder();
                AlbertConfig one = new AlbertConfig(e.vocabSize(), e.embeddingSize(), e.hiddenSize(), 1, e.numHiddenGroups(),
                        e.numHeads(), e.intermediateSize(), e.innerGroupNum(), e.hiddenAct(), e.hiddenDropout(),
                        e.attentionDropout(), e.maxPositionEmbeddings(), e.typeVocabSize(), e.initializerRange(),
                        e.layerNormEps(), e.classifierDropoutProb(), e.padTokenId(), e.bosTokenId(), e.eosTokenId());
                return new ModelConfig(one, c.labels(), c.problemType(), c.head(), null, c.notes(), c.preprocessing(), c.extra());
            }, true, 0);
            try (TransformerModel model = loaded.model()) {
                assertTrue(loaded.report().clean(), "one layer needs every weight of two: " + loaded.report().summary());
                EncoderInput in = g.encoderInput(m);
                g.assertClose("hidden_states_1", model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false)
                        .lastHiddenState(), TOL);
            }
        }
    }

    @Test
    void saveAndLoadKeepTheLogitsBitForBit() {
        Golden g = Golden.fixture("albert-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            float[] before = model.logits(in, false).toFloatArray();
            model.save(dir);
            ForwardChecks.checkConfigKeepsEveryField(g, dir);
            try (TransformerModel back = TransformerModel.load(dir, m).model()) {
                assertEquals(model.config().encoder(), back.config().encoder());
                assertEquals(model.config().head(), back.config().head());
                assertEquals(List.copyOf(model.parameters().params().keySet()), List.copyOf(back.parameters().params().keySet()));
                float[] after = back.logits(in, false).toFloatArray();
                assertArrayEquals(before, after, 0f);
                g.assertClose("logits after our save and load", g.tensor("logits").toFloats(), after, TOL);
            }
        }
    }
}
