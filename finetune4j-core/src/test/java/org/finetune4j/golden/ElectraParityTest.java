package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TokenLayout;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ElectraForSequenceClassification against transformers 4.37.2 (golden/electra-seqcls): embeddings 16
 * wide projected to hidden 32 by embeddings_project, BERT layers, the GELU classification head.
 */
@NeedsSharedData
class ElectraParityTest {
    /** The README's recommended tolerance for electra-seqcls (observed in PyTorch: 1.5e-6). */
    static final double TOL = 1e-5;

    @Test
    void logitsLossAndLastHiddenState() {
        Golden g = Golden.fixture("electra-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            NDArray logits = model.logits(in, false); // (B, C), inference on the packed real tokens
            g.assertClose("logits", logits, TOL);
            NDArray labels = m.create(Golden.longs(g.inputs().get("labels")));
            g.assertClose("loss", g.json().get("loss").asDouble(), Losses.crossEntropy(logits, labels, null, 0).getFloat(), TOL);
            // The padded layout computes padded positions too, as transformers does: the whole tensor matches.
            g.assertClose("last_hidden_state", model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false)
                    .lastHiddenState(), TOL);
        }
    }

    /**
     * hidden_states_k is the output of the first k layers (k = 0: embeddings_project's output), so a
     * model of the checkpoint's first k layers, loaded from the same file, must return it.
     */
    @Test
    void hiddenStatesAfterEachLayer() {
        Golden g = Golden.fixture("electra-seqcls");
        for (int k = 0; k <= 2; k++) {
            int layers = k;
            try (NDManager m = NDManager.newBaseManager();
                    TransformerModel model = ForwardChecks.firstLayers(g.dir(), m, layers)) {
                EncoderInput in = g.encoderInput(m);
                g.assertClose("hidden_states_" + k, model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false)
                        .lastHiddenState(), TOL);
            }
        }
    }


    /** Padding invariance: each row alone, unpadded, and the real positions of the padded batch give HF's row alone. */
    @Test
    void eachRowAloneUnpaddedAndTheRealPositionsOfTheBatch() {
        Golden g = Golden.fixture("electra-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput batch = g.encoderInput(m);
            NDArray batchStates = model.encode(batch, false).lastHiddenState(); // (B, T, H), packed inference
            NDArray batchLogits = model.logits(batch, false); // (B, C)
            long[] lengths = Golden.longs(g.inputs().get("lengths"));
            for (int i = 0; i < lengths.length; i++) {
                long len = lengths[i];
                EncoderInput row = ForwardChecks.row(batch, i, (int) len);
                String states = "unpadded_last_hidden_state_" + i;
                g.assertClose(states, model.encode(row, false).lastHiddenState(), TOL);
                g.assertClose(states + " (real positions of the padded batch)", g.tensor(states).toFloats(),
                        batchStates.get(i + ", :" + len + ", :").toFloatArray(), TOL);
                String logits = "unpadded_logits_" + i;
                g.assertClose(logits, model.logits(row, false), TOL);
                g.assertClose(logits + " (row of the padded batch)", g.tensor(logits).toFloats(),
                        batchLogits.get(i + ":" + (i + 1)).toFloatArray(), TOL);
            }
        }
    }


    /** Our save writes what transformers wrote (the same keys, config.json fields kept) and loads to the same logits. */
    @Test
    void ourSaveAndLoadGiveTheSameLogits(@TempDir Path dir) throws Exception {
        Golden g = Golden.fixture("electra-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            float[] before = model.logits(in, false).toFloatArray();
            model.save(dir);
            Set<String> theirs = SafeTensors.readFile(g.dir().resolve("model.safetensors")).keySet();
            Set<String> ours = SafeTensors.readFile(dir.resolve("model.safetensors")).keySet();
            assertEquals(theirs, ours, "state-dict keys");
            assertTrue(ours.contains("electra.embeddings_project.weight"));
            ObjectMapper json = new ObjectMapper();
            JsonNode original = json.readTree(g.dir().resolve("config.json").toFile());
            JsonNode written = json.readTree(Files.readString(dir.resolve("config.json")));
            assertEquals("electra", written.get("model_type").asText());
            assertEquals("ElectraForSequenceClassification", written.get("architectures").get(0).asText());
            for (String field : new String[] {"embedding_size", "hidden_size", "summary_type", "summary_use_proj",
                    "summary_activation", "summary_last_dropout", "layer_norm_eps", "classifier_dropout"}) {
                assertEquals(original.get(field), written.get(field), field);
            }
            try (TransformerModel back = TransformerModel.load(dir, m).model()) {
                NDArray logits = back.logits(in, false);
                assertArrayEquals(before, logits.toFloatArray(), 0f);
                g.assertClose("logits after our save and load", g.tensor("logits").toFloats(), logits.toFloatArray(), TOL);
            }
        }
    }
}
