package org.finetune4j.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Metrics of a multi-label classifier (problem_type multi_label_classification): each label is
 * predicted on its own when its sigmoid probability is above a threshold, 0.5 by default (as HF's
 * multi-label examples do). Definitions are scikit-learn's for label-indicator data.
 */
public final class MultiLabelMetrics {
    public static final double DEFAULT_THRESHOLD = 0.5;

    private MultiLabelMetrics() {
    }

    public static MultiLabelReport compute(List<String> labels, boolean[][] gold, float[][] probs) {
        return compute(labels, gold, probs, DEFAULT_THRESHOLD);
    }

    /**
     * @param labels label names in id order
     * @param gold (N, C): gold[i][k] is true when example i carries label k
     * @param probs (N, C) sigmoid probabilities
     * @param threshold label k is predicted for example i when probs[i][k] &gt; threshold
     */
    public static MultiLabelReport compute(List<String> labels, boolean[][] gold, float[][] probs, double threshold) {
        Checks.labels(labels, 1, "multi-label classifier");
        int c = labels.size();
        if (gold == null || gold.length == 0) {
            throw new IllegalArgumentException("no examples to evaluate: the gold labels are empty");
        }
        for (int i = 0; i < gold.length; i++) {
            if (gold[i] == null || gold[i].length != c) {
                throw new IllegalArgumentException("gold row " + i + " has "
                        + (gold[i] == null ? "no values" : gold[i].length + " values") + " but there are " + c
                        + " labels " + labels + "; a row holds one true/false per label, in id order");
            }
        }
        Checks.probabilities(probs, gold.length, c);
        Checks.threshold(threshold);
        int n = gold.length;

        long[] tp = new long[c];
        long[] predicted = new long[c];
        long[] actual = new long[c];
        double sp = 0; // sums over examples of each example's precision, recall, F1 (the samples average)
        double sr = 0;
        double sf = 0;
        long exact = 0;
        long wrong = 0;
        int[] flatGold = new int[n * c];
        double[] flatScores = new double[n * c];
        for (int i = 0; i < n; i++) {
            long tpI = 0;
            long predI = 0;
            long actI = 0;
            for (int k = 0; k < c; k++) {
                boolean p = probs[i][k] > threshold;
                boolean g = gold[i][k];
                if (p && g) {
                    tp[k]++;
                    tpI++;
                }
                if (p) {
                    predicted[k]++;
                    predI++;
                }
                if (g) {
                    actual[k]++;
                    actI++;
                }
                if (p != g) {
                    wrong++;
                }
                flatGold[i * c + k] = g ? 1 : 0;
                flatScores[i * c + k] = probs[i][k];
            }
            exact += predI == actI && predI == tpI ? 1 : 0;
            // An example with no gold and no predicted label scores 0 here, scikit-learn's
            // zero_division default (scikit-learn PR #26713 proposed 1 and was not merged).
            Scores row = Scores.of("", tpI, predI, actI);
            sp += row.precision();
            sr += row.recall();
            sf += row.f1();
        }

        List<Scores> perLabel = new ArrayList<>();
        long tpAll = 0;
        long predAll = 0;
        long actAll = 0;
        for (int k = 0; k < c; k++) {
            perLabel.add(Scores.of(labels.get(k), tp[k], predicted[k], actual[k]));
            tpAll += tp[k];
            predAll += predicted[k];
            actAll += actual[k];
        }
        // scikit-learn prints the total label count as the support of every average, samples included.
        Scores micro = Scores.of("micro avg", tpAll, predAll, actAll);
        Scores samples = new Scores("samples avg", sp / n, sr / n, sf / n, actAll);
        Double auc = actAll > 0 && actAll < (long) n * c ? RocCurve.rocAuc(flatGold, flatScores) : null;
        return new MultiLabelReport(perLabel, micro, Scores.macro("macro avg", perLabel),
                Scores.weighted("weighted avg", perLabel), samples, (double) exact / n, (double) wrong / ((long) n * c),
                threshold, auc);
    }
}
