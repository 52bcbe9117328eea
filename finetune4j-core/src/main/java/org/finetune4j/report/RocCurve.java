package org.finetune4j.report;

import java.util.Arrays;

/**
 * A receiver operating characteristic curve of a binary classifier, as scikit-learn's
 * {@code roc_curve} returns it: one point per threshold, false positive rate ascending.
 *
 * @param fpr false positive rate at each threshold, in [0, 1]
 * @param tpr true positive rate at each threshold, in [0, 1]
 * @param auc area under the curve ({@code roc_auc_score})
 */
public record RocCurve(double[] fpr, double[] tpr, double auc) {
    public RocCurve {
        Curves.requirePoints("ROC curve", "fpr", fpr, "tpr", tpr);
        Curves.requireProbability("ROC AUC", auc);
        fpr = fpr.clone();
        tpr = tpr.clone();
    }

    @Override
    public double[] fpr() {
        return fpr.clone();
    }

    @Override
    public double[] tpr() {
        return tpr.clone();
    }

    @Override
    public String toString() {
        return "RocCurve[" + fpr.length + " points, auc=" + auc + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RocCurve r && Arrays.equals(fpr, r.fpr) && Arrays.equals(tpr, r.tpr) && auc == r.auc;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(fpr) + Arrays.hashCode(tpr)) + Double.hashCode(auc);
    }
}
