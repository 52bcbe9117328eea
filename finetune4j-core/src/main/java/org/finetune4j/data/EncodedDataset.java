package org.finetune4j.data;

import java.util.List;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.text.Tokenized;

/**
 * A dataset tokenised once, before training: token ids (special tokens included, truncated at the
 * tokenizer's max_length, not padded), token types for pairs, and label ids. Batches are cut from it by
 * index ({@link Batches}, {@link BatchBuilder}) every epoch without tokenising again. Held in Java
 * arrays, not native memory.
 */
public final class EncodedDataset {
    /** Texts per call to the tokenizer: bounds the transient per-text objects on large files. */
    private static final int ENCODE_CHUNK = 4096;

    private final String source;
    private final LabelMode labelMode;
    private final LabelSet labels;
    private final String[] exampleIds;
    private final int[][] ids;
    /** Null when no example has a pair (all zeros). */
    private final int[][] typeIds;
    private final int[] lengths;
    /** Single-label: one class id per example. Multi-label: the class ids of each example's labels. */
    private final int[][] classIds;
    private final int maxLength;
    private final int truncatedCount;

    private EncodedDataset(String source, LabelMode labelMode, LabelSet labels, String[] exampleIds, int[][] ids,
                           int[][] typeIds, int[][] classIds, int maxLength, int truncatedCount) {
        this.source = source;
        this.labelMode = labelMode;
        this.labels = labels;
        this.exampleIds = exampleIds;
        this.ids = ids;
        this.typeIds = typeIds;
        this.classIds = classIds;
        this.maxLength = maxLength;
        this.truncatedCount = truncatedCount;
        this.lengths = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            lengths[i] = ids[i].length;
        }
    }

    /**
     * Tokenises every example with {@code tokenizer} (which truncates at its max_length) and maps labels to
     * ids with {@code labels}.
     *
     * @param labels the training data's label set; null to leave labels out (prediction). A label it does
     *     not know is an error naming the file and line.
     */
    public static EncodedDataset encode(Dataset data, TextTokenizer tokenizer, LabelSet labels) {
        int n = data.size();
        boolean pairs = data.hasPairs();
        int[][] ids = new int[n][];
        int[][] typeIds = pairs ? new int[n][] : null;
        int truncated = 0;
        List<String> texts = data.texts();
        List<String> pairTexts = data.pairs();
        for (int start = 0; start < n; start += ENCODE_CHUNK) {
            int end = Math.min(n, start + ENCODE_CHUNK);
            List<Tokenized> chunk = tokenizer.encodeAll(texts.subList(start, end), pairs ? pairTexts.subList(start, end) : null);
            for (int i = start; i < end; i++) {
                Tokenized t = chunk.get(i - start);
                ids[i] = toInts(t.ids());
                if (pairs) {
                    typeIds[i] = toInts(t.typeIds());
                }
                truncated += t.truncated() ? 1 : 0;
            }
        }
        String[] exampleIds = new String[n];
        for (int i = 0; i < n; i++) {
            exampleIds[i] = data.get(i).id();
        }
        int[][] classIds = null;
        LabelMode mode = LabelMode.UNLABELLED;
        if (labels != null && data.isLabelled()) {
            labels.checkKnown(data);
            mode = data.labelMode();
            classIds = new int[n][];
            for (int i = 0; i < n; i++) {
                List<String> names = data.get(i).labels();
                classIds[i] = new int[names.size()];
                for (int j = 0; j < names.size(); j++) {
                    classIds[i][j] = labels.indexOf(names.get(j));
                }
            }
        }
        return new EncodedDataset(data.source(), mode, mode == LabelMode.UNLABELLED ? null : labels, exampleIds, ids,
                typeIds, classIds, tokenizer.maxLength(), truncated);
    }

    private static int[] toInts(long[] values) {
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    public String source() {
        return source;
    }

    public int size() {
        return ids.length;
    }

    /** UNLABELLED when encoded without labels. */
    public LabelMode labelMode() {
        return labelMode;
    }

    /** The label set the ids refer to, or null when encoded without labels. */
    public LabelSet labels() {
        return labels;
    }

    public boolean hasPairs() {
        return typeIds != null;
    }

    /** The tokenizer's max_length the ids were truncated at (0: not truncated). */
    public int maxLength() {
        return maxLength;
    }

    /** How many examples lost tokens to truncation. */
    public int truncatedCount() {
        return truncatedCount;
    }

    public String exampleId(int i) {
        return exampleIds[i];
    }

    /** Tokens of each example (special tokens included), for batch planning. A copy. */
    public int[] lengths() {
        return lengths.clone();
    }

    public int length(int i) {
        return lengths[i];
    }

    /** The token ids of example i. A copy. */
    public int[] tokenIds(int i) {
        return ids[i].clone();
    }

    /** The class id of single-label example i. */
    public int classId(int i) {
        if (labelMode != LabelMode.SINGLE) {
            throw new IllegalStateException(source + " has " + labelMode + " labels, not one class per example");
        }
        return classIds[i][0];
    }

    /** The class ids of example i's labels (one for single-label data). A copy. */
    public int[] classIds(int i) {
        if (classIds == null) {
            throw new IllegalStateException(source + " was encoded without labels");
        }
        return classIds[i].clone();
    }

    // Package-private views for BatchBuilder, which copies them straight into batch arrays.
    int[] idsView(int i) {
        return ids[i];
    }

    int[] typeIdsView(int i) {
        return typeIds == null ? null : typeIds[i];
    }

    int[] classIdsView(int i) {
        return classIds[i];
    }
}
