package org.finetune4j.metrics;

import java.util.Arrays;

/**
 * scikit-learn's {@code _binary_clf_curve}: the distinct scores from highest to lowest and, for each,
 * how many positives ({@code tps}) and negatives ({@code fps}) score at least that much. Every
 * threshold-dependent curve and the threshold search read their counts from here.
 */
final class ScoreSweep {
    final double[] thresholds; // (M,) distinct scores, descending
    final long[] tps; // (M,) positives with score >= thresholds[k]
    final long[] fps; // (M,) negatives with score >= thresholds[k]
    final long positives;
    final long negatives;

    private ScoreSweep(double[] thresholds, long[] tps, long[] fps, long positives, long negatives) {
        this.thresholds = thresholds;
        this.tps = tps;
        this.fps = fps;
        this.positives = positives;
        this.negatives = negatives;
    }

    /** gold: 0 or 1 per example; scores: finite (both already checked). */
    static ScoreSweep of(int[] gold, double[] scores) {
        int nPos = 0;
        for (int g : gold) {
            nPos += g;
        }
        double[] pos = new double[nPos];
        double[] neg = new double[gold.length - nPos];
        int a = 0;
        int b = 0;
        for (int i = 0; i < gold.length; i++) {
            double s = scores[i] + 0.0; // -0.0 becomes 0.0, so the two zeros are one score as == says
            if (gold[i] == 1) {
                pos[a++] = s;
            } else {
                neg[b++] = s;
            }
        }
        Arrays.sort(pos);
        Arrays.sort(neg);
        // Walk both sorted lists from the top, one group of equal scores at a time.
        double[] th = new double[gold.length];
        long[] tp = new long[gold.length];
        long[] fp = new long[gold.length];
        int i = pos.length - 1;
        int j = neg.length - 1;
        int m = 0;
        long cumTp = 0;
        long cumFp = 0;
        while (i >= 0 || j >= 0) {
            double s = i < 0 ? neg[j] : j < 0 ? pos[i] : Math.max(pos[i], neg[j]);
            while (i >= 0 && pos[i] == s) {
                cumTp++;
                i--;
            }
            while (j >= 0 && neg[j] == s) {
                cumFp++;
                j--;
            }
            th[m] = s;
            tp[m] = cumTp;
            fp[m] = cumFp;
            m++;
        }
        return new ScoreSweep(Arrays.copyOf(th, m), Arrays.copyOf(tp, m), Arrays.copyOf(fp, m), pos.length,
                neg.length);
    }

    int size() {
        return thresholds.length;
    }

    /**
     * The area under the ROC curve from the counts: the trapezoid rule over the points (fps, tps)
     * summed in integers, then one division. Equal to the Mann–Whitney U statistic with ties counted
     * as one half, and to {@code roc_auc_score} up to its floating-point rounding.
     */
    double rocAuc() {
        // 2 · area · P · N = sum over steps of (fps[k] - fps[k-1]) · (tps[k] + tps[k-1])
        long twiceArea = 0;
        long prevTp = 0;
        long prevFp = 0;
        for (int k = 0; k < size(); k++) {
            twiceArea += (fps[k] - prevFp) * (tps[k] + prevTp);
            prevTp = tps[k];
            prevFp = fps[k];
        }
        return twiceArea / (2.0 * positives * negatives);
    }

    /**
     * {@code average_precision_score}: sum over thresholds, highest first, of (R_k − R_{k−1}) · P_k,
     * the step-wise area under the precision-recall curve without interpolation.
     */
    double averagePrecision() {
        double ap = 0;
        long prevTp = 0;
        for (int k = 0; k < size(); k++) {
            if (tps[k] != prevTp) {
                ap += (double) (tps[k] - prevTp) / positives * ((double) tps[k] / (tps[k] + fps[k]));
            }
            prevTp = tps[k];
        }
        return ap;
    }
}
