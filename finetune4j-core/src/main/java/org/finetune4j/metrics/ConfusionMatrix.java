package org.finetune4j.metrics;

import java.util.Arrays;
import java.util.List;

/**
 * Counts of (true label, predicted label) pairs: {@code count(t, p)} examples of label t were
 * predicted as p. Rows are true labels and columns predicted ones, as in
 * {@code sklearn.metrics.confusion_matrix}, so for a binary task [[TN, FP], [FN, TP]].
 */
public record ConfusionMatrix(List<String> labels, int[][] counts) {
    public ConfusionMatrix {
        labels = List.copyOf(labels);
        int c = labels.size();
        if (counts.length != c) {
            throw new IllegalArgumentException("confusion matrix has " + counts.length + " rows for " + c + " labels");
        }
        int[][] copy = new int[c][];
        for (int t = 0; t < c; t++) {
            if (counts[t].length != c) {
                throw new IllegalArgumentException("confusion matrix row " + t + " has " + counts[t].length
                        + " columns for " + c + " labels");
            }
            for (int v : counts[t]) {
                if (v < 0) {
                    throw new IllegalArgumentException("confusion matrix row " + t + " has a negative count " + v);
                }
            }
            copy[t] = counts[t].clone();
        }
        counts = copy;
    }

    /** Tallies gold and predicted label ids, which must lie in [0, labels.size()). */
    static ConfusionMatrix of(List<String> labels, int[] gold, int[] predicted) {
        int[][] m = new int[labels.size()][labels.size()];
        for (int i = 0; i < gold.length; i++) {
            m[gold[i]][predicted[i]]++;
        }
        return new ConfusionMatrix(labels, m);
    }

    public int size() {
        return labels.size();
    }

    public int count(int trueId, int predictedId) {
        return counts[trueId][predictedId];
    }

    /** A copy of the counts, [true][predicted]. */
    @Override
    public int[][] counts() {
        int[][] copy = new int[counts.length][];
        for (int t = 0; t < counts.length; t++) {
            copy[t] = counts[t].clone();
        }
        return copy;
    }

    /** Examples whose gold label is t (row sum): the support of t. */
    public long actual(int t) {
        long s = 0;
        for (int v : counts[t]) {
            s += v;
        }
        return s;
    }

    /** Examples predicted as p (column sum). */
    public long predicted(int p) {
        long s = 0;
        for (int[] row : counts) {
            s += row[p];
        }
        return s;
    }

    /** Correctly predicted examples (the trace). */
    public long correct() {
        long s = 0;
        for (int k = 0; k < counts.length; k++) {
            s += counts[k][k];
        }
        return s;
    }

    public long total() {
        long s = 0;
        for (int t = 0; t < counts.length; t++) {
            s += actual(t);
        }
        return s;
    }

    /**
     * A table for logs and the console, true labels down and predicted labels across, every column
     * right-aligned:
     * <pre>
     * true\pred  neg  pos
     *       neg    4    2
     *       pos    1    3
     * </pre>
     */
    public String toText() {
        String corner = "true\\pred";
        int first = ReportText.width(corner);
        for (String l : labels) {
            first = Math.max(first, ReportText.width(l));
        }
        int[] widths = new int[size()];
        for (int p = 0; p < size(); p++) {
            widths[p] = ReportText.width(labels.get(p));
            for (int[] row : counts) {
                widths[p] = Math.max(widths[p], Integer.toString(row[p]).length());
            }
        }
        StringBuilder sb = new StringBuilder(ReportText.padLeft(corner, first));
        for (int p = 0; p < size(); p++) {
            sb.append("  ").append(ReportText.padLeft(labels.get(p), widths[p]));
        }
        sb.append('\n');
        for (int t = 0; t < size(); t++) {
            sb.append(ReportText.padLeft(labels.get(t), first));
            for (int p = 0; p < size(); p++) {
                sb.append("  ").append(ReportText.padLeft(Integer.toString(counts[t][p]), widths[p]));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfusionMatrix m && labels.equals(m.labels) && Arrays.deepEquals(counts, m.counts);
    }

    @Override
    public int hashCode() {
        return 31 * labels.hashCode() + Arrays.deepHashCode(counts);
    }

    @Override
    public String toString() {
        return "ConfusionMatrix[labels=" + labels + ", counts=" + Arrays.deepToString(counts) + "]";
    }
}
