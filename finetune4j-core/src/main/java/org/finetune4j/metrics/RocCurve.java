package org.finetune4j.metrics;

import java.util.Arrays;

/**
 * Points of the receiver operating characteristic curve, as {@code sklearn.metrics.roc_curve} returns
 * them: {@code thresholds} descending, the first one +Infinity (the point (0, 0), where nothing is
 * predicted positive; scikit-learn ≥ 1.3), and at each, {@code fpr[k]} and {@code tpr[k]} the rates
 * of examples with score ≥ {@code thresholds[k]}. With it, its area, {@code roc_auc_score}, which
 * RocCurveDisplay shows beside the curve (the run report draws both).
 *
 * @param fpr false positive rate at each threshold, in [0, 1]
 * @param tpr true positive rate at each threshold, in [0, 1]
 * @param thresholds the score of each point
 * @param auc area under the curve ({@link #rocAuc})
 */
public record RocCurve(double[] fpr, double[] tpr, double[] thresholds, double auc) {
    public RocCurve {
        Checks.curvePoints("ROC curve", "fpr", fpr, "tpr", tpr);
        if (thresholds == null || thresholds.length != fpr.length) {
            throw new IllegalArgumentException("ROC curve: " + (thresholds == null ? "no" : thresholds.length)
                    + " thresholds for " + fpr.length + " points; give each point its threshold");
        }
        Checks.probability("ROC AUC", auc);
        fpr = fpr.clone();
        tpr = tpr.clone();
        thresholds = thresholds.clone();
    }

    /** The curve with collinear points dropped, scikit-learn's default {@code drop_intermediate=True}. */
    public static RocCurve of(int[] gold, double[] scores) {
        return of(gold, scores, true);
    }

    /**
     * @param gold 1 for a positive example, 0 for a negative one
     * @param scores higher means more likely positive (a probability or a logit)
     * @param dropIntermediate leave out points that lie on a straight line between their neighbours;
     *     they change neither the look nor the area of the curve
     */
    public static RocCurve of(int[] gold, double[] scores, boolean dropIntermediate) {
        ScoreSweep s = sweep(gold, scores);
        int m = s.size();
        // scikit-learn keeps point k where the second difference of fps or tps is non-zero, plus both ends.
        boolean[] keep = new boolean[m];
        for (int k = 0; k < m; k++) {
            keep[k] = !dropIntermediate || m <= 2 || k == 0 || k == m - 1
                    || s.fps[k + 1] - 2 * s.fps[k] + s.fps[k - 1] != 0
                    || s.tps[k + 1] - 2 * s.tps[k] + s.tps[k - 1] != 0;
        }
        int n = 1;
        for (boolean b : keep) {
            n += b ? 1 : 0;
        }
        double[] fpr = new double[n];
        double[] tpr = new double[n];
        double[] th = new double[n];
        th[0] = Double.POSITIVE_INFINITY;
        int i = 1;
        for (int k = 0; k < m; k++) {
            if (keep[k]) {
                fpr[i] = (double) s.fps[k] / s.negatives;
                tpr[i] = (double) s.tps[k] / s.positives;
                th[i] = s.thresholds[k];
                i++;
            }
        }
        return new RocCurve(fpr, tpr, th, s.rocAuc());
    }

    /**
     * {@code roc_auc_score} for a binary task: the probability that a random positive scores above a
     * random negative, a tie counting one half.
     *
     * @throws IllegalArgumentException when the gold labels hold one class only, where the area is
     *     undefined (scikit-learn raises "Only one class present in y_true")
     */
    public static double rocAuc(int[] gold, double[] scores) {
        return sweep(gold, scores).rocAuc();
    }

    private static ScoreSweep sweep(int[] gold, double[] scores) {
        Checks.scores(scores, false);
        Checks.binaryGold(gold, scores.length);
        ScoreSweep s = ScoreSweep.of(gold, scores);
        if (s.positives == 0 || s.negatives == 0) {
            throw new IllegalArgumentException("the ROC curve needs positive and negative examples, but all "
                    + gold.length + " are " + (s.positives == 0 ? "negative" : "positive")
                    + "; evaluate on data with both classes");
        }
        return s;
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
    public double[] thresholds() {
        return thresholds.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RocCurve c && Arrays.equals(fpr, c.fpr) && Arrays.equals(tpr, c.tpr)
                && Arrays.equals(thresholds, c.thresholds) && Double.compare(auc, c.auc) == 0;
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(fpr) * 961 + Arrays.hashCode(tpr) * 31 + Arrays.hashCode(thresholds)) * 31
                + Double.hashCode(auc);
    }

    @Override
    public String toString() {
        return "RocCurve[fpr=" + Arrays.toString(fpr) + ", tpr=" + Arrays.toString(tpr) + ", thresholds="
                + Arrays.toString(thresholds) + ", auc=" + auc + "]";
    }
}
