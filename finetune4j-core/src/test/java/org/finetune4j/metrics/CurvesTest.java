package org.finetune4j.metrics;

import static org.finetune4j.metrics.ClassificationMetricsTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class CurvesTest {
    private static final double EPS = 1e-12;
    // scikit-learn's docstring example for roc_curve, roc_auc_score, precision_recall_curve and
    // average_precision_score.
    private static final int[] DOC_GOLD = {0, 0, 1, 1};
    private static final double[] DOC_SCORES = {0.1, 0.4, 0.35, 0.8};

    @Test
    void rocCurveMatchesScikitLearnDocExample() {
        // roc_curve(y, scores) → fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1],
        // thresholds [inf, 0.8, 0.4, 0.35, 0.1]
        RocCurve c = RocCurve.of(DOC_GOLD, DOC_SCORES);
        assertArrayEquals(new double[] {0, 0, 0.5, 0.5, 1}, c.fpr(), EPS);
        assertArrayEquals(new double[] {0, 0.5, 0.5, 1, 1}, c.tpr(), EPS);
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, 0.8, 0.4, 0.35, 0.1}, c.thresholds(), EPS);
        // Positives 0.35 and 0.8 against negatives 0.1 and 0.4: 0.8 beats both, 0.35 beats 0.1 → 3/4.
        assertEquals(0.75, RocCurve.rocAuc(DOC_GOLD, DOC_SCORES), EPS);
        assertEquals(RocCurve.rocAuc(DOC_GOLD, DOC_SCORES), c.auc()); // the curve carries the same number
    }

    @Test
    void rocCurveDropsCollinearPoints() {
        // Descending: 0.9 (+), 0.8 (+), 0.7 (−), 0.6 (−). Cumulative (fps, tps): (0,1) (0,2) (1,2) (2,2).
        // (1,2) lies on the segment from (0,2) to (2,2), so drop_intermediate leaves it out.
        int[] gold = {1, 1, 0, 0};
        double[] scores = {0.9, 0.8, 0.7, 0.6};
        RocCurve all = RocCurve.of(gold, scores, false);
        assertArrayEquals(new double[] {0, 0, 0, 0.5, 1}, all.fpr(), EPS);
        assertArrayEquals(new double[] {0, 0.5, 1, 1, 1}, all.tpr(), EPS);
        RocCurve dropped = RocCurve.of(gold, scores);
        assertArrayEquals(new double[] {Double.POSITIVE_INFINITY, 0.9, 0.8, 0.6}, dropped.thresholds(), EPS);
        assertArrayEquals(new double[] {0, 0, 0, 1}, dropped.fpr(), EPS);
        assertArrayEquals(new double[] {0, 0.5, 1, 1}, dropped.tpr(), EPS);
        assertEquals(1.0, RocCurve.rocAuc(gold, scores), EPS);
    }

    @Test
    void rocAucCountsTiesAsHalf() {
        // Positives 0.5 and 0.8, negatives 0.5 and 0.2. Pairs: 0.8 beats both (2), 0.5 beats 0.2 (1),
        // 0.5 ties 0.5 (½) → 3.5/4. The trapezoid through the tied point (0.5, 1) gives the same:
        // points (0,0) (0,½) (½,1) (1,1): area ½·(½+1)/2 + ½·1 = 0.875.
        int[] gold = {0, 1, 0, 1};
        double[] scores = {0.5, 0.5, 0.2, 0.8};
        assertEquals(0.875, RocCurve.rocAuc(gold, scores), EPS);
        RocCurve c = RocCurve.of(gold, scores, false);
        assertArrayEquals(new double[] {0, 0, 0.5, 1}, c.fpr(), EPS);
        assertArrayEquals(new double[] {0, 0.5, 1, 1}, c.tpr(), EPS);
        // Every score equal: a coin toss.
        assertEquals(0.5, RocCurve.rocAuc(new int[] {0, 1, 1, 0, 1}, new double[] {0.3, 0.3, 0.3, 0.3, 0.3}), EPS);
    }

    @Test
    void rocAucAgreesWithMannWhitneyAndTheTrapezoidOnTiedRandomScores() {
        Random rnd = new Random(20240611L);
        for (int trial = 0; trial < 50; trial++) {
            int n = 2 + rnd.nextInt(200);
            int[] gold = new int[n];
            double[] scores = new double[n];
            gold[0] = 0;
            gold[1] = 1;
            for (int i = 0; i < n; i++) {
                if (i > 1) {
                    gold[i] = rnd.nextInt(2);
                }
                scores[i] = rnd.nextInt(11) / 10.0; // 11 values: many ties
            }
            double pairs = 0;
            long pos = 0;
            long neg = 0;
            for (int i = 0; i < n; i++) {
                pos += gold[i];
                neg += 1 - gold[i];
                for (int j = 0; j < n; j++) {
                    if (gold[i] == 1 && gold[j] == 0) {
                        pairs += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }
                }
            }
            double auc = RocCurve.rocAuc(gold, scores);
            assertEquals(pairs / (pos * neg), auc, 1e-12, "trial " + trial);
            assertEquals(auc, trapezoid(RocCurve.of(gold, scores, false)), 1e-12, "trial " + trial);
            assertEquals(auc, trapezoid(RocCurve.of(gold, scores, true)), 1e-12, "trial " + trial);
        }
    }

    /** sklearn.metrics.auc: the trapezoid rule over the curve's points. */
    private static double trapezoid(RocCurve c) {
        double[] x = c.fpr();
        double[] y = c.tpr();
        double area = 0;
        for (int k = 1; k < x.length; k++) {
            area += (x[k] - x[k - 1]) * (y[k] + y[k - 1]) / 2;
        }
        return area;
    }

    @Test
    void precisionRecallCurveMatchesScikitLearnDocExample() {
        // precision_recall_curve(y, scores) → precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0],
        // thresholds [0.1, 0.35, 0.4, 0.8]
        PrecisionRecallCurve c = PrecisionRecallCurve.of(DOC_GOLD, DOC_SCORES);
        assertArrayEquals(new double[] {0.5, 2.0 / 3, 0.5, 1, 1}, c.precision(), EPS);
        assertArrayEquals(new double[] {1, 1, 0.5, 0.5, 0}, c.recall(), EPS);
        assertArrayEquals(new double[] {0.1, 0.35, 0.4, 0.8}, c.thresholds(), EPS);
        // average_precision_score → 0.83: recall steps ½ at precision 1 (0.8) and ½ at precision ⅔ (0.35).
        assertEquals(0.5 * 1 + 0.5 * 2.0 / 3, PrecisionRecallCurve.averagePrecision(DOC_GOLD, DOC_SCORES), EPS);
        assertEquals(PrecisionRecallCurve.averagePrecision(DOC_GOLD, DOC_SCORES), c.averagePrecision());
    }

    @Test
    void precisionRecallCurveCanDropPointsWhereRecallStandsStill() {
        // Descending: 0.9 (+), 0.8 (+), 0.7 (−), 0.6 (−), 0.5 (+); tps 1 2 2 2 3, fps 0 0 1 2 2.
        // At 0.7 recall equals both neighbours' (2/3), so drop_intermediate=True leaves it out.
        int[] gold = {1, 1, 0, 0, 1};
        double[] scores = {0.9, 0.8, 0.7, 0.6, 0.5};
        PrecisionRecallCurve all = PrecisionRecallCurve.of(gold, scores);
        assertArrayEquals(new double[] {0.5, 0.6, 0.7, 0.8, 0.9}, all.thresholds(), EPS);
        assertArrayEquals(new double[] {0.6, 0.5, 2.0 / 3, 1, 1, 1}, all.precision(), EPS);
        assertArrayEquals(new double[] {1, 2.0 / 3, 2.0 / 3, 2.0 / 3, 1.0 / 3, 0}, all.recall(), EPS);
        PrecisionRecallCurve dropped = PrecisionRecallCurve.of(gold, scores, true);
        assertArrayEquals(new double[] {0.5, 0.6, 0.8, 0.9}, dropped.thresholds(), EPS);
        assertArrayEquals(new double[] {0.6, 0.5, 1, 1, 1}, dropped.precision(), EPS);
        assertArrayEquals(new double[] {1, 2.0 / 3, 2.0 / 3, 1.0 / 3, 0}, dropped.recall(), EPS);
        // AP = ⅓·1 + ⅓·1 + ⅓·(3/5)
        assertEquals((1 + 1 + 0.6) / 3, PrecisionRecallCurve.averagePrecision(gold, scores), EPS);
    }

    @Test
    void curvesRejectDataTheyCannotDescribe() {
        assertMessage("needs positive and negative examples, but all 3 are negative",
                () -> RocCurve.rocAuc(new int[] {0, 0, 0}, new double[] {0.1, 0.2, 0.3}));
        assertMessage("all 2 are positive", () -> RocCurve.of(new int[] {1, 1}, new double[] {0.1, 0.2}));
        assertMessage("needs positive examples",
                () -> PrecisionRecallCurve.averagePrecision(new int[] {0, 0}, new double[] {0.1, 0.2}));
        assertMessage("gold label at row 1 is 2", () -> RocCurve.rocAuc(new int[] {0, 2}, new double[] {0.1, 0.2}));
        assertMessage("3 gold labels for 2 scores", () -> RocCurve.rocAuc(new int[] {0, 1, 1}, new double[] {0.1, 0.2}));
        assertMessage("score at row 0 is NaN", () -> RocCurve.rocAuc(new int[] {0, 1}, new double[] {Double.NaN, 0.2}));
        assertMessage("score at row 1 is Infinity",
                () -> PrecisionRecallCurve.of(new int[] {0, 1}, new double[] {0.1, Double.POSITIVE_INFINITY}));
    }

    @Test
    void curvePointsMustPairUpAndBeRates() {
        assertMessage("fpr has 3 points but tpr has 2",
                () -> new RocCurve(new double[] {0, 0.5, 1}, new double[] {0, 1}, new double[] {2, 1, 0}, 0.7));
        assertMessage("2 thresholds for 3 points",
                () -> new RocCurve(new double[] {0, 0.5, 1}, new double[] {0, 0.5, 1}, new double[] {1, 0}, 0.5));
        assertMessage("ROC AUC must be in [0, 1], got 1.5",
                () -> new RocCurve(new double[] {0, 1}, new double[] {0, 1}, new double[] {1, 0}, 1.5));
        assertMessage("point 1 (precision=1.5, recall=1.0) is outside [0, 1]",
                () -> new PrecisionRecallCurve(new double[] {1, 1.5}, new double[] {0, 1}, new double[] {0.5}, 0.7));
        assertMessage("2 points need 1 thresholds",
                () -> new PrecisionRecallCurve(new double[] {0.5, 1}, new double[] {1, 0}, new double[] {0.5, 0.6}, 0.7));
    }
}
