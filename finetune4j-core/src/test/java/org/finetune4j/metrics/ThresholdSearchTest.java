package org.finetune4j.metrics;

import static org.finetune4j.metrics.ClassificationMetricsTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ThresholdSearchTest {
    private static final double EPS = 1e-12;

    @Test
    void findsTheCutWithTheBestF1AndTakesTheMidpoint() {
        // The binary case of ClassificationMetricsTest, P = 4 positives. Ranked by P(pos):
        //   0.90+ 0.80+ 0.70+ | 0.60− 0.55− 0.40− 0.35+ 0.30− 0.20− 0.10−
        // Predicting the top k positive, F1 = 2·TP / (P + k):
        //   k=1: 2/5  k=2: 4/6  k=3: 6/7  k=4: 6/8  k=5: 6/9  k=6: 6/10  k=7: 8/11  ...
        // Best is k = 3, any threshold in [0.60, 0.70); the midpoint is 0.65.
        // At 0.5 (argmax) k = 5: F1 = 6/9.
        ThresholdSearch.Result r = ThresholdSearch.bestF1(ClassificationMetricsTest.GOLD2,
                ClassificationMetricsTest.binaryProbs(ClassificationMetricsTest.POS2));
        assertEquals(0.65, r.threshold(), 1e-6);
        assertEquals(6.0 / 7, r.f1(), EPS);
        assertEquals(6.0 / 9, r.f1AtHalf(), EPS);

        // Used as the model's threshold, it reproduces the F1 it promised.
        ClassificationReport report = ClassificationMetrics.compute(List.of("neg", "pos"),
                ClassificationMetricsTest.GOLD2, ClassificationMetricsTest.binaryProbs(ClassificationMetricsTest.POS2),
                r.threshold());
        assertEquals(r.f1(), report.binary().f1(), EPS);
    }

    @Test
    void aPerfectSeparationIsCutHalfWayBetweenTheClasses() {
        // Positives 0.9, 0.8; negatives 0.2, 0.1: every threshold in [0.2, 0.8) gives F1 = 1; midpoint 0.5.
        ThresholdSearch.Result r = ThresholdSearch.bestF1(new int[] {1, 1, 0, 0}, new double[] {0.9, 0.8, 0.2, 0.1});
        assertEquals(0.5, r.threshold(), EPS);
        assertEquals(1.0, r.f1(), EPS);
    }

    @Test
    void equalF1GoesToTheThresholdNearestHalf() {
        // Ranked 0.9+ 0.8− 0.7− 0.1+, P = 2. Top 1: F1 = 2/(2+1) = 2/3; top 4: 4/(2+4) = 2/3 as well.
        // Cuts: top 1 at 0.85 (0.35 from 0.5), top 4 at 0.05 (0.45 from 0.5): 0.85 wins.
        ThresholdSearch.Result r = ThresholdSearch.bestF1(new int[] {1, 0, 0, 1}, new double[] {0.9, 0.8, 0.7, 0.1});
        assertEquals(0.85, r.threshold(), EPS);
        assertEquals(2.0 / 3, r.f1(), EPS);
    }

    @Test
    void aLowestScoreOfZeroCannotBeCutBelow() {
        // Predicting everything positive would need a threshold below 0; the search stays in [0, 1].
        ThresholdSearch.Result r = ThresholdSearch.bestF1(new int[] {1, 1}, new double[] {0.0, 0.0});
        assertEquals(0.5, r.threshold(), EPS); // nothing positive (the only cut left): F1 = 0
        assertEquals(0.0, r.f1());
        ThresholdSearch.Result s = ThresholdSearch.bestF1(new int[] {1, 1, 0}, new double[] {1.0, 0.3, 0.0});
        assertEquals(0.15, s.threshold(), EPS); // between 0.3 and 0.0: both positives, F1 = 1
        assertEquals(1.0, s.f1(), EPS);
    }

    @Test
    void theThresholdFoundIsAsGoodAsEveryOtherCut() {
        Random rnd = new Random(7L);
        for (int trial = 0; trial < 100; trial++) {
            int n = 1 + rnd.nextInt(60);
            int[] gold = new int[n];
            double[] scores = new double[n];
            for (int i = 0; i < n; i++) {
                gold[i] = i == 0 ? 1 : rnd.nextInt(2);
                scores[i] = rnd.nextInt(21) / 20.0; // ties, and the ends 0 and 1
            }
            ThresholdSearch.Result r = ThresholdSearch.bestF1(gold, scores);
            assertTrue(r.threshold() >= 0 && r.threshold() <= 1, "trial " + trial);
            assertEquals(r.f1(), ThresholdSearch.f1At(gold, scores, r.threshold()), EPS, "trial " + trial);
            for (double s : scores) {
                // Predicting positive every score >= s, which the threshold just below s does; below a
                // score of 0 no threshold in [0, 1] reaches (see aLowestScoreOfZeroCannotBeCutBelow).
                if (s == 0) {
                    continue;
                }
                assertTrue(ThresholdSearch.f1At(gold, scores, Math.nextDown(s)) <= r.f1() + EPS, "trial " + trial);
            }
        }
    }

    @Test
    void needsPositivesAndProbabilities() {
        assertMessage("no positive example among 2",
                () -> ThresholdSearch.bestF1(new int[] {0, 0}, new double[] {0.3, 0.6}));
        assertMessage("not a probability in [0, 1]; pass P(positive), not a logit",
                () -> ThresholdSearch.bestF1(new int[] {0, 1}, new double[] {-2.0, 3.1}));
        assertMessage("probabilities row 0 has 3 values but there are 2 labels",
                () -> ThresholdSearch.bestF1(new int[] {0}, new float[][] {{0.2f, 0.3f, 0.5f}}));
    }

    @Test
    void fractionsCompareExactly() {
        assertEquals(0, ThresholdSearch.compareFractions(2, 3, 4, 6));
        assertTrue(ThresholdSearch.compareFractions(6, 7, 6, 8) > 0);
        // Products beyond 2^63: (2^32 − 1)/2^32 against (2^32 − 2)/(2^32 − 1).
        long a = (1L << 32) - 1;
        assertTrue(ThresholdSearch.compareFractions(a, 1L << 32, a - 1, a) > 0);
    }
}
