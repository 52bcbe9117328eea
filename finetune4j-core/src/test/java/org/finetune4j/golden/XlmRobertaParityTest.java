package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.Roberta;
import org.finetune4j.models.TokenLayout;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * XLMRobertaForSequenceClassification against transformers 4.37.2 (golden/xlm-roberta-seqcls): RoBERTa's
 * computation (position ids from pad_token_id + 1, the tanh head) under model_type xlm-roberta, with
 * the state-dict prefix "roberta." and layer_norm_eps 1e-5.
 */
@NeedsSharedData
class XlmRobertaParityTest {
    /** The README's recommended tolerance for xlm-roberta-seqcls (observed in PyTorch: 1.2e-6). */
    static final double TOL = 1e-5;

    @Test
    void logitsLossLastHiddenStateAndPositionIds() {
        Golden g = Golden.fixture("xlm-roberta-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            assertEquals("xlm-roberta", model.config().encoder().modelType());
            EncoderInput in = g.encoderInput(m);
            NDArray logits = model.logits(in, false); // (B, C), inference on the packed real tokens
            g.assertClose("logits", logits, TOL);
            NDArray labels = m.create(Golden.longs(g.inputs().get("labels")));
            g.assertClose("loss", g.json().get("loss").asDouble(), Losses.crossEntropy(logits, labels, null, 0).getFloat(), TOL);
            // The padded layout computes padded positions too, as transformers does: the whole tensor matches.
            g.assertClose("last_hidden_state", model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false)
                    .lastHiddenState(), TOL);
            long[] want = Golden.longs(flatten(g.json().get("position_ids")));
            g.assertExact("position_ids", want, Roberta.positionIds(in.inputIds(), model.config().encoder().padTokenId())
                    .toLongArray());
        }
    }

    private static JsonNode flatten(JsonNode rows) {
        var out = new ObjectMapper().createArrayNode();
        rows.forEach(r -> r.forEach(out::add));
        return out;
    }

    /** hidden_states_k is the output of the first k layers (k = 0: the embeddings), so a model of only those must return it. */
    @Test
    void hiddenStatesAfterEachLayer() {
        Golden g = Golden.fixture("xlm-roberta-seqcls");
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
        Golden g = Golden.fixture("xlm-roberta-seqcls");
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

    /** Our save keeps model_type xlm-roberta and the "roberta." keys, and loads to the same logits. */
    @Test
    void ourSaveAndLoadGiveTheSameLogits(@TempDir Path dir) throws Exception {
        Golden g = Golden.fixture("xlm-roberta-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            float[] before = model.logits(in, false).toFloatArray();
            model.save(dir);
            Set<String> theirs = SafeTensors.readFile(g.dir().resolve("model.safetensors")).keySet();
            assertEquals(theirs, SafeTensors.readFile(dir.resolve("model.safetensors")).keySet(), "state-dict keys");
            ObjectMapper json = new ObjectMapper();
            JsonNode original = json.readTree(g.dir().resolve("config.json").toFile());
            JsonNode written = json.readTree(Files.readString(dir.resolve("config.json")));
            assertEquals("xlm-roberta", written.get("model_type").asText());
            assertEquals("XLMRobertaForSequenceClassification", written.get("architectures").get(0).asText());
            for (String field : new String[] {"vocab_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps",
                    "pad_token_id", "bos_token_id", "eos_token_id", "classifier_dropout"}) {
                assertEquals(original.get(field), written.get(field), field);
            }
            try (TransformerModel back = TransformerModel.load(dir, m).model()) {
                assertEquals(model.config().encoder(), back.config().encoder());
                NDArray logits = back.logits(in, false);
                assertArrayEquals(before, logits.toFloatArray(), 0f);
                g.assertClose("logits after our save and load", g.tensor("logits").toFloats(), logits.toFloatArray(), TOL);
            }
        }
    }
}
