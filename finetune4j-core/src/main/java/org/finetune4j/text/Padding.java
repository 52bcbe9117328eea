package org.finetune4j.text;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;
import org.finetune4j.models.EncoderInput;

/** Right-pads tokenised texts to the longest in the batch, as DataCollatorWithPadding does. */
public final class Padding {
    private Padding() {
    }

    /** -> input_ids, attention_mask, token_type_ids, each (B, T) int64, created in {@code m}. */
    public static EncoderInput batch(NDManager m, List<Tokenized> items, int padId) {
        int b = items.size();
        int t = items.stream().mapToInt(Tokenized::length).max().orElse(0);
        long[] ids = new long[b * t];
        long[] mask = new long[b * t];
        long[] types = new long[b * t];
        Arrays.fill(ids, padId);
        for (int i = 0; i < b; i++) {
            Tokenized e = items.get(i);
            System.arraycopy(e.ids(), 0, ids, i * t, e.length());
            System.arraycopy(e.typeIds(), 0, types, i * t, e.length());
            Arrays.fill(mask, i * t, i * t + e.length(), 1L);
        }
        Shape s = new Shape(b, t);
        return new EncoderInput(m.create(ids, s), m.create(mask, s), m.create(types, s));
    }
}
