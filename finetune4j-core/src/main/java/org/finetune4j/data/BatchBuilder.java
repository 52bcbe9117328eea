package org.finetune4j.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.finetune4j.models.EncoderInput;

/**
 * Turns a batch of example indices into model input: token ids padded to the longest example in the batch
 * (dynamic padding, as transformers' {@code DataCollatorWithPadding}), the attention mask, token types,
 * and the labels. Arrays are created in the manager passed in, which should be the per-batch manager
 * that the training step closes (DJL-NOTES.md: native memory stays flat only that way).
 */
public final class BatchBuilder {
    private final int padTokenId;

    /** @param padTokenId the model's pad_token_id (0 for BERT's uncased vocab, 1 for RoBERTa) */
    public BatchBuilder(int padTokenId) {
        if (padTokenId < 0) {
            throw new IllegalArgumentException("pad_token_id must not be negative, got " + padTokenId);
        }
        this.padTokenId = padTokenId;
    }

    /**
     * The padded input of the examples {@code indices}, in that order.
     *
     * @return input ids (B, T) int64 with pad_token_id after each example's tokens; attention mask (B, T)
     *     int64, 1 on tokens and 0 on padding; token type ids (B, T) int64 (0 on padding) when the data has
     *     text pairs, otherwise null, which the encoders read as all zeros. T is the longest example.
     */
    public EncoderInput toInput(NDManager manager, EncodedDataset data, int[] indices) {
        int b = checkIndices(data, indices);
        int t = 0;
        for (int i : indices) {
            t = Math.max(t, data.length(i));
        }
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = data.hasPairs() ? new long[b * t] : null;
        java.util.Arrays.fill(ids, padTokenId);
        for (int row = 0; row < b; row++) {
            int[] tokens = data.idsView(indices[row]);
            int[] typeIds = data.typeIdsView(indices[row]);
            int offset = row * t;
            for (int j = 0; j < tokens.length; j++) {
                ids[offset + j] = tokens[j];
                mask[offset + j] = 1;
                if (types != null) {
                    types[offset + j] = typeIds[j];
                }
            }
        }
        Shape shape = new Shape(b, t);
        NDArray inputIds = manager.create(ids, shape); // (B, T)
        NDArray attentionMask = manager.create(mask, shape); // (B, T)
        NDArray tokenTypeIds = types == null ? null : manager.create(types, shape); // (B, T)
        return new EncoderInput(inputIds, attentionMask, tokenTypeIds);
    }

    /**
     * The labels of the examples {@code indices}: class ids (B) int64 for single-label data, multi-hot
     * (B, L) float32 for multi-label data (L = number of labels), as the two losses take them.
     */
    public NDArray labels(NDManager manager, EncodedDataset data, int[] indices) {
        int b = checkIndices(data, indices);
        switch (data.labelMode()) {
            case SINGLE -> {
                long[] ids = new long[b];
                for (int row = 0; row < b; row++) {
                    ids[row] = data.classIdsView(indices[row])[0];
                }
                return manager.create(ids, new Shape(b)); // (B)
            }
            case MULTI -> {
                int l = data.labels().size();
                float[] hot = new float[b * l];
                for (int row = 0; row < b; row++) {
                    for (int c : data.classIdsView(indices[row])) {
                        hot[row * l + c] = 1f;
                    }
                }
                return manager.create(hot, new Shape(b, l)); // (B, L)
            }
            default -> throw new IllegalStateException(data.source() + " was encoded without labels; encode it with"
                    + " the training label set to get label arrays");
        }
    }

    private static int checkIndices(EncodedDataset data, int[] indices) {
        if (indices.length == 0) {
            throw new IllegalArgumentException("empty batch");
        }
        for (int i : indices) {
            if (i < 0 || i >= data.size()) {
                throw new IndexOutOfBoundsException("example " + i + " of " + data.size() + " in " + data.source());
            }
        }
        return indices.length;
    }
}
