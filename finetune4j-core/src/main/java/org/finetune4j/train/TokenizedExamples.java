package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.finetune4j.data.BatchBuilder;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.data.LabelMode;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.StepGradients;

/** Tokenised texts run through the whole model (full, partial and LoRA training; evaluation). */
public final class TokenizedExamples implements Examples {
    private final TransformerModel model;
    private final EncodedDataset data;
    private final BatchBuilder builder;

    public TokenizedExamples(TransformerModel model, EncodedDataset data) {
        this.model = model;
        this.data = data;
        this.builder = new BatchBuilder(model.config().encoder().padTokenId());
    }

    @Override
    public int size() {
        return data.size();
    }

    @Override
    public int tokenCount(int i) {
        return data.length(i);
    }

    @Override
    public NDArray logits(NDManager m, int[] idx, boolean training, StepGradients rows) {
        return model.logits(builder.toInput(m, data, idx).withStepGradients(rows), training); // (B, C)
    }

    @Override
    public NDArray labels(NDManager m, int[] idx) {
        return builder.labels(m, data, idx);
    }

    @Override
    public int[] goldIds() {
        return goldIds(data);
    }

    @Override
    public boolean[][] goldSets() {
        return goldSets(data);
    }

    public EncodedDataset data() {
        return data;
    }

    static int[] goldIds(EncodedDataset data) {
        if (data.labelMode() != LabelMode.SINGLE) {
            return null;
        }
        int[] g = new int[data.size()];
        for (int i = 0; i < g.length; i++) {
            g[i] = data.classId(i);
        }
        return g;
    }

    static boolean[][] goldSets(EncodedDataset data) {
        if (data.labelMode() != LabelMode.MULTI) {
            return null;
        }
        boolean[][] g = new boolean[data.size()][data.labels().size()];
        for (int i = 0; i < g.length; i++) {
            for (int c : data.classIds(i)) {
                g[i][c] = true;
            }
        }
        return g;
    }
}
