package org.finetune4j.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * ROC-AUC of a single-label task with three or more classes, as {@code sklearn.metrics.roc_auc_score}
 * computes it from the (N, C) class probabilities (scikit-learn 1.2, checked against it in
 * MetricsParityTest). Every binary area below is {@link RocCurve#rocAuc}, ties counting one half.
 *
 * <ul>
 *   <li>One-vs-rest ({@code multi_class="ovr"}): for each class k, the binary AUC of P(k) with class k
 *       positive and every other class negative; {@code average="macro"} is their plain mean,
 *       {@code average="weighted"} their mean weighted by each class's number of gold examples.
 *   <li>One-vs-one ({@code multi_class="ovo", average="macro"}), Hand &amp; Till (2001), "A Simple
 *       Generalisation of the Area Under the ROC Curve for Multiple Class Classification Problems",
 *       Machine Learning 45: for each pair of classes (a, b), on the examples of a and b only, the mean
 *       of the AUC of P(a) with a positive and the AUC of P(b) with b positive; then the plain mean over
 *       the C·(C−1)/2 pairs. The probabilities are not renormalised over the pair.
 * </ul>
 *
 * Defined only when every class occurs in the gold labels and every row of probabilities sums to 1
 * (within {@code numpy.allclose}'s default tolerance); scikit-learn raises otherwise, and
 * {@link #of} throws.
 *
 * @param ovrMacro {@code roc_auc_score(y, probs, multi_class="ovr", average="macro")}
 * @param ovrWeighted {@code roc_auc_score(y, probs, multi_class="ovr", average="weighted")}
 * @param ovoMacro {@code roc_auc_score(y, probs, multi_class="ovo", average="macro")}
 */
public record MultiClassRocAuc(double ovrMacro, double ovrWeighted, double ovoMacro) {
    public MultiClassRocAuc {
        Checks.probability("one-vs-rest macro ROC AUC", ovrMacro);
        Checks.probability("one-vs-rest weighted ROC AUC", ovrWeighted);
        Checks.probability("one-vs-one macro ROC AUC", ovoMacro);
    }

    /**
     * @param gold the gold class id of each example, 0 to C−1; each of the C classes at least once
     * @param probs (N, C) class probabilities, each row summing to 1
     * @throws IllegalArgumentException when a class is missing from the gold labels, a row does not sum
     *     to 1, or there are fewer than 3 classes (use {@link RocCurve#rocAuc} for a binary task)
     */
    public static MultiClassRocAuc of(int[] gold, float[][] probs) {
        String problem = problem(gold, probs);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        int c = probs[0].length;
        long[] support = new long[c];
        for (int g : gold) {
            support[g]++;
        }
        double[] ovr = new double[c];
        int[] isPositive = new int[gold.length];
        double[] scores = new double[gold.length];
        for (int k = 0; k < c; k++) {
            for (int i = 0; i < gold.length; i++) {
                isPositive[i] = gold[i] == k ? 1 : 0;
                scores[i] = probs[i][k];
            }
            ovr[k] = RocCurve.rocAuc(isPositive, scores);
        }
        double sum = 0;
        double weightedSum = 0;
        for (int k = 0; k < c; k++) {
            sum += ovr[k];
            weightedSum += ovr[k] * support[k];
        }
        double ovrMacro = sum / c;
        double ovrWeighted = weightedSum / gold.length;

        double pairSum = 0;
        for (int a = 0; a < c; a++) {
            for (int b = a + 1; b < c; b++) {
                int n = (int) (support[a] + support[b]);
                int[] aPositive = new int[n];
                int[] bPositive = new int[n];
                double[] aScores = new double[n];
                double[] bScores = new double[n];
                int j = 0;
                for (int i = 0; i < gold.length; i++) {
                    if (gold[i] == a || gold[i] == b) {
                        aPositive[j] = gold[i] == a ? 1 : 0;
                        bPositive[j] = 1 - aPositive[j];
                        aScores[j] = probs[i][a];
                        bScores[j] = probs[i][b];
                        j++;
                    }
                }
                pairSum += (RocCurve.rocAuc(aPositive, aScores) + RocCurve.rocAuc(bPositive, bScores)) / 2;
            }
        }
        double ovoMacro = pairSum / (c * (c - 1) / 2);
        return new MultiClassRocAuc(ovrMacro, ovrWeighted, ovoMacro);
    }

    /** Whether {@link #of} gives a value for these inputs (it throws exactly when this is false). */
    public static boolean isDefined(int[] gold, float[][] probs) {
        return problem(gold, probs) == null;
    }

    /** Why the multi-class AUC is undefined for these inputs, or null when it is defined. */
    private static String problem(int[] gold, float[][] probs) {
        if (probs == null || probs.length == 0 || probs[0] == null) {
            return "multi-class ROC AUC: no probabilities given; pass one row of class probabilities per example";
        }
        int c = probs[0].length;
        if (c < 3) {
            return "multi-class ROC AUC needs at least 3 classes, the probabilities have " + c
                    + " columns; for a binary task use RocCurve.rocAuc on P(positive)";
        }
        if (gold == null || gold.length != probs.length) {
            return "multi-class ROC AUC: " + (gold == null ? "no" : gold.length) + " gold labels for " + probs.length
                    + " rows of probabilities; pass one gold label per row, in the same order";
        }
        Checks.probabilities(probs, gold.length, c);
        boolean[] seen = new boolean[c];
        for (int i = 0; i < gold.length; i++) {
            if (gold[i] < 0 || gold[i] >= c) {
                return "multi-class ROC AUC: gold label id " + gold[i] + " at row " + i + " is out of range for " + c
                        + " classes";
            }
            seen[gold[i]] = true;
        }
        for (int k = 0; k < c; k++) {
            if (!seen[k]) {
                // scikit-learn: "Number of classes in y_true not equal to the number of columns in 'y_score'"
                return "multi-class ROC AUC is undefined: class id " + k + " never occurs in the " + gold.length
                        + " gold labels (scikit-learn raises here too); evaluate on data holding every class";
            }
        }
        for (int i = 0; i < probs.length; i++) {
            double s = 0;
            for (float p : probs[i]) {
                s += p;
            }
            // numpy.allclose(1, s): |1 - s| <= atol + rtol·|s| with atol 1e-8, rtol 1e-5, which
            // scikit-learn's _multiclass_roc_auc_score requires of every row.
            if (!(Math.abs(1 - s) <= 1e-8 + 1e-5 * Math.abs(s))) {
                return "multi-class ROC AUC needs probabilities that sum to 1 over the classes, but row " + i
                        + " sums to " + s + "; pass softmax outputs, not logits";
            }
        }
        return null;
    }

    ObjectNode toJson() {
        ObjectNode n = ReportText.JSON.createObjectNode();
        n.put("ovr_macro", ovrMacro);
        n.put("ovr_weighted", ovrWeighted);
        n.put("ovo_macro", ovoMacro);
        return n;
    }

    static MultiClassRocAuc fromJson(JsonNode n, String where) {
        String w = where + ": \"roc_auc\"";
        if (!n.isObject()) {
            throw new IllegalArgumentException(w + " must be an object with ovr_macro, ovr_weighted and ovo_macro");
        }
        return new MultiClassRocAuc(ReportText.number(n, "ovr_macro", w), ReportText.number(n, "ovr_weighted", w),
                ReportText.number(n, "ovo_macro", w));
    }
}
