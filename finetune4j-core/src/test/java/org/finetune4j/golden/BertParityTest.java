package org.finetune4j.golden;

import ai.djl.ndarray.NDManager;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.junit.jupiter.api.Test;

/** BertForSequenceClassification against transformers 4.37.2 (golden/bert-seqcls). */
@NeedsSharedData
class BertParityTest {

    @Test
    void sequenceClassificationLogits() {
        Golden g = Golden.fixture("bert-seqcls");
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            g.assertClose("logits", model.logits(in, false), 1e-5);
        }
    }
}
