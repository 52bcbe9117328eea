package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.List;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.EncoderOutput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;

/**
 * BertModel and BertForSequenceClassification (single- and multi-label) against transformers 4.37.2
 * (golden/bert-base-model, golden/bert-seqcls, golden/bert-multilabel). Tolerance 1e-5 abs, the
 * fixtures' README's recommendation.
 */
@NeedsSharedData
class BertParityTest {
    private static final double TOL = 1e-5;

    @Test
    void sequenceClassificationLogitsAndLoss() {
        Golden g = Golden.fixture("bert-seqcls");
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            assertEquals(List.of("neg", "neu", "pos"), model.config().labels());
            assertEquals(ProblemType.SINGLE_LABEL, model.config().problemType());
            EncoderInput in = g.encoderInput(m);
            NDArray logits = model.logits(in, false); // (B, 3)
            g.assertClose("logits", logits, TOL);
            NDArray labels = m.create(Golden.longs(g.inputs().get("labels"))); // (B)
            g.assertClose("loss (Losses.crossEntropy)", Golden.f32(g.json().get("loss")),
                    Losses.crossEntropy(logits, labels, null, 0).getFloat(), TOL);
        }
    }

    @Test
    void multiLabelConfigLogitsSigmoidAndLoss() {
        Golden g = Golden.fixture("bert-multilabel");
        ModelConfig config = ModelConfig.read(g.dir());
        assertEquals(ProblemType.MULTI_LABEL, config.problemType(), "problem_type multi_label_classification");
        assertEquals(List.of("sports", "politics", "tech", "weather"), config.labels());
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            NDArray logits = model.logits(in, false); // (B, 4)
            g.assertClose("logits", logits, TOL);
            g.assertClose("sigmoid", logits.getNDArrayInternal().sigmoid(), TOL);
            NDArray targets = Golden.longMatrix(g.inputs().get("labels"), m).toType(DataType.FLOAT32, false); // (B, 4)
            g.assertClose("loss (Losses.binaryCrossEntropyWithLogits)", Golden.f32(g.json().get("loss")),
                    Losses.binaryCrossEntropyWithLogits(logits, targets).getFloat(), TOL);
        }
    }

    /** TransformerModel.encode: the packed inference path, which returns zeros at padded positions. */
    @Test
    void baseModelEncodeMatchesAtRealPositions() {
        Golden g = Golden.fixture("bert-base-model");
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            EncoderOutput out = model.encode(in, false);
            g.assertClose("pooler_output", out.pooled(), TOL);
            ForwardChecks.compareRealPositions(g, "encode last_hidden_state", out.lastHiddenState(), "last_hidden_state",
                    "unpadded_last_hidden_state_", ForwardChecks.lengths(g), TOL);
        }
    }

    /** The padded layout (what training runs) reproduces HF at every position, padded ones included. */
    @Test
    void baseModelPaddedLayout() {
        Golden g = Golden.fixture("bert-base-model");
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            EncoderOutput out = ForwardChecks.padded(model, in);
            g.assertClose("last_hidden_state", out.lastHiddenState(), TOL);
            g.assertClose("pooler_output", out.pooled(), TOL);
            ForwardChecks.compareRealPositions(g, "padded last_hidden_state", out.lastHiddenState(), "last_hidden_state",
                    "unpadded_last_hidden_state_", ForwardChecks.lengths(g), TOL);
        }
    }

    @Test
    void baseModelRowsAloneUnpadded() {
        Golden g = Golden.fixture("bert-base-model");
        int[] lengths = ForwardChecks.lengths(g);
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput batch = g.encoderInput(m);
            for (int i = 0; i < lengths.length; i++) {
                EncoderOutput out = model.encode(ForwardChecks.row(batch, i, lengths[i]), false);
                g.assertClose("unpadded_last_hidden_state_" + i, out.lastHiddenState(), TOL);
                g.assertClose("unpadded_pooler_output_" + i, out.pooled(), TOL);
            }
        }
    }

    /** hidden_states_k of output_hidden_states=True: the model's first k layers (0 = embeddings after LayerNorm). */
    @Test
    void baseModelHiddenStates() {
        Golden g = Golden.fixture("bert-base-model");
        for (int k = 0; k <= 2; k++) {
            try (NDManager m = NDManager.newBaseManager();
                    TransformerModel model = ForwardChecks.firstLayers(g.dir(), m, k)) {
                EncoderInput in = g.encoderInput(m);
                g.assertClose("hidden_states_" + k, ForwardChecks.padded(model, in).lastHiddenState(), TOL);
            }
        }
    }
}
