package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.Roberta;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;

/** RobertaForSequenceClassification against transformers 4.37.2 (golden/roberta-seqcls), 1e-5 abs. */
@NeedsSharedData
class RobertaParityTest {
    private static final double TOL = 1e-5;

    @Test
    void configWithoutId2labelHasTwoLabels() {
        Golden g = Golden.fixture("roberta-seqcls");
        ModelConfig config = ModelConfig.read(g.dir());
        g.assertExact("num_labels (default)", new long[] {2}, new long[] {config.numLabels()});
        assertEquals(ProblemType.SINGLE_LABEL, config.problemType());
    }

    /** create_position_ids_from_input_ids: real tokens pad+1.., padding pad (not 0..T-1). */
    @Test
    void positionIds() {
        Golden g = Golden.fixture("roberta-seqcls");
        int pad = ((BertConfig) ModelConfig.read(g.dir()).encoder()).padTokenId();
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray ids = Golden.longMatrix(g.inputs().get("input_ids"), m); // (B, T)
            NDArray want = Golden.longMatrix(g.json().get("position_ids"), m); // (B, T)
            g.assertExact("position_ids", want.toLongArray(), Roberta.positionIds(ids, pad).toLongArray());
        }
    }

    @Test
    void logitsAndLoss() {
        Golden g = Golden.fixture("roberta-seqcls");
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            NDArray logits = model.logits(in, false); // (B, 2)
            g.assertClose("logits", logits, TOL);
            NDArray labels = m.create(Golden.longs(g.inputs().get("labels"))); // (B)
            g.assertClose("loss (Losses.crossEntropy)", Golden.f32(g.json().get("loss")),
                    Losses.crossEntropy(logits, labels, null, 0).getFloat(), TOL);
        }
    }

    @Test
    void lastHiddenStatePackedPaddedAndRowsAlone() {
        Golden g = Golden.fixture("roberta-seqcls");
        int[] lengths = ForwardChecks.lengths(g);
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            g.assertClose("last_hidden_state", ForwardChecks.padded(model, in).lastHiddenState(), TOL);
            ForwardChecks.compareRealPositions(g, "encode last_hidden_state", model.encode(in, false).lastHiddenState(),
                    "last_hidden_state", null, lengths, TOL);
            // No unpadded_* tensors here: each row alone must give the batch's real positions.
            float[] want = g.tensor("last_hidden_state").toFloats();
            long[] shape = g.tensor("last_hidden_state").shape();
            for (int i = 0; i < lengths.length; i++) {
                NDArray alone = model.encode(ForwardChecks.row(in, i, lengths[i]), false).lastHiddenState(); // (1, L, H)
                g.assertClose("row " + i + " alone vs last_hidden_state real positions",
                        ForwardChecks.realPositions(want, shape, i, lengths[i]), ForwardChecks.realPositions(alone, 0, lengths[i]),
                        TOL);
            }
        }
    }
}
