package org.finetune4j.metrics;

import java.util.Arrays;

/**
 * Points of the precision-recall curve, as {@code sklearn.metrics.precision_recall_curve} returns them:
 * {@code thresholds} ascending; {@code precision[k]} and {@code recall[k]} are those of predicting
 * positive every example with score ≥ {@code thresholds[k]}, and one last point, precision 1 and
 * recall 0, has no threshold (so precision and recall are one longer than thresholds). With it, its
 * summary, {@code average_precision_score}, which PrecisionRecallDisplay shows beside the curve (the
 * run report draws both).
 *
 * @param precision precision at each threshold, in [0, 1]
 * @param recall recall at each threshold, in [0, 1]
 * @param thresholds the score of each point but the last
 * @param averagePrecision {@link #averagePrecision(int[], double[])}
 */
public record PrecisionRecallCurve(double[] precision, double[] recall, double[] thresholds, double averagePrecision) {
    public PrecisionRecallCurve {
        Checks.curvePoints("precision-recall curve", "precision", precision, "recall", recall);
        if (thresholds == null || thresholds.length + 1 != precision.length) {
            throw new IllegalArgumentException("precision-recall curve: " + precision.length + " points need "
                    + (precision.length - 1) + " thresholds (the last point, precision 1 and recall 0, has none), got "
                    + (thresholds == null ? "none" : thresholds.length));
        }
        Checks.probability("average precision", averagePrecision);
        precision = precision.clone();
        recall = recall.clone();
        thresholds = thresholds.clone();
    }

    /** Every point, scikit-learn's default {@code drop_intermediate=False}. */
    public static PrecisionRecallCurve of(int[] gold, double[] scores) {
        return of(gold, scores, false);
    }

    /**
     * @param gold 1 for a positive example, 0 for a negative one
     * @param scores higher means more likely positive (a probability or a logit)
     * @param dropIntermediate leave out thresholds where recall does not change on either side
     *     (scikit-learn ≥ 1.3's option), which keeps the stair-step plot the same
     */
    public static PrecisionRecallCurve of(int[] gold, double[] scores, boolean dropIntermediate) {
        ScoreSweep s = sweep(gold, scores);
        int m = s.size();
        boolean[] keep = new boolean[m];
        for (int k = 0; k < m; k++) {
            keep[k] = !dropIntermediate || m <= 2 || k == 0 || k == m - 1
                    || s.tps[k] != s.tps[k - 1] || s.tps[k + 1] != s.tps[k];
        }
        int n = 0;
        for (boolean b : keep) {
            n += b ? 1 : 0;
        }
        double[] precision = new double[n + 1];
        double[] recall = new double[n + 1];
        double[] th = new double[n];
        // The sweep runs from the highest score down; the curve is returned from the lowest up.
        int i = n - 1;
        for (int k = 0; k < m; k++) {
            if (keep[k]) {
                precision[i] = Scores.ratio(s.tps[k], s.tps[k] + s.fps[k]);
                recall[i] = (double) s.tps[k] / s.positives;
                th[i] = s.thresholds[k];
                i--;
            }
        }
        precision[n] = 1.0;
        recall[n] = 0.0;
        return new PrecisionRecallCurve(precision, recall, th, s.averagePrecision());
    }

    /**
     * {@code average_precision_score}: the sum over thresholds of (R_k − R_{k−1}) · P_k, the
     * precision at each step weighted by the recall it adds. No interpolation (unlike the
     * PASCAL VOC 11-point AP).
     *
     * @throws IllegalArgumentException when no example is positive, where recall is undefined
     */
    public static double averagePrecision(int[] gold, double[] scores) {
        return sweep(gold, scores).averagePrecision();
    }

    private static ScoreSweep sweep(int[] gold, double[] scores) {
        Checks.scores(scores, false);
        Checks.binaryGold(gold, scores.length);
        ScoreSweep s = ScoreSweep.of(gold, scores);
        if (s.positives == 0) {
            throw new IllegalArgumentException("the precision-recall curve needs positive examples, but all "
                    + gold.length + " are negative; evaluate on data with positives");
        }
        return s;
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
    public double[] thresholds() {
        return thresholds.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PrecisionRecallCurve c && Arrays.equals(precision, c.precision)
                && Arrays.equals(recall, c.recall) && Arrays.equals(thresholds, c.thresholds)
                && Double.compare(averagePrecision, c.averagePrecision) == 0;
    }

    @Override
    public int hashCode() {
        return (Arrays.hashCode(precision) * 961 + Arrays.hashCode(recall) * 31 + Arrays.hashCode(thresholds)) * 31
                + Double.hashCode(averagePrecision);
    }

    @Override
    public String toString() {
        return "PrecisionRecallCurve[precision=" + Arrays.toString(precision) + ", recall=" + Arrays.toString(recall)
                + ", thresholds=" + Arrays.toString(thresholds) + ", averagePrecision=" + averagePrecision + "]";
    }
}
