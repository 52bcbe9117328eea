package org.finetune4j.report;

import java.util.Arrays;

/**
 * A precision-recall curve of a binary classifier, as scikit-learn's
 * {@code precision_recall_curve} returns it: one point per threshold.
 *
 * @param precision precision at each threshold, in [0, 1]
 * @param recall recall at each threshold, in [0, 1]
 * @param averagePrecision {@code average_precision_score}
 */
public record PrecisionRecallCurve(double[] precision, double[] recall, double averagePrecision) {
    public PrecisionRecallCurve {
        Curves.requirePoints("precision-recall curve", "precision", precision, "recall", recall);
        Curves.requireProbability("average precision", averagePrecision);
        precision = precision.clone();
        recall = recall.clone();
    }

    @Override
    public double[] precision() {
        return precision.clone();
    }

    @Override
    public double[] recall() {
        return recall.clone();
    }

    @Override
    public String toString() {
        return "PrecisionRecallCurve[" + precision.length + " points, averagePrecision=" + averagePrecision + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrecisionRecallCurve c && Arrays.equals(precision, c.precision)
                && Arrays.equals(recall, c.recall) && averagePrecision == c.averagePrecision;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(precision) + Arrays.hashCode(recall)) + Double.hashCode(averagePrecision);
    }
}
