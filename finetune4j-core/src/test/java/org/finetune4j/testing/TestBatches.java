package org.finetune4j.testing;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.text.Tokenized;

/** Builds padded model inputs from texts for tests (right padding to a given or the longest length). */
public final class TestBatches {
    private TestBatches() {
    }

    public static EncoderInput encode(NDManager m, TextTokenizer tok, List<String> texts, int padId, int padTo) {
        List<Tokenized> enc = tok.encodeAll(texts, null);
        int t = Math.max(padTo, enc.stream().mapToInt(Tokenized::length).max().orElse(0));
        long[] ids = new long[texts.size() * t];
        long[] mask = new long[texts.size() * t];
        long[] types = new long[texts.size() * t];
        java.util.Arrays.fill(ids, padId);
        for (int i = 0; i < enc.size(); i++) {
            Tokenized e = enc.get(i);
            System.arraycopy(e.ids(), 0, ids, i * t, e.length());
            System.arraycopy(e.typeIds(), 0, types, i * t, e.length());
            java.util.Arrays.fill(mask, i * t, i * t + e.length(), 1L);
        }
        Shape s = new Shape(texts.size(), t);
        return new EncoderInput(m.create(ids, s), m.create(mask, s), m.create(types, s));
    }

    /** Max |a - b| over the real tokens of row {@code row} (first {@code len} positions). a, b: (B, T, H). */
    public static double maxAbsDiff(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }

    public static int[] lengths(TextTokenizer tok, List<String> texts) {
        return tok.encodeAll(texts, null).stream().mapToInt(Tokenized::length).toArray();
    }
}
