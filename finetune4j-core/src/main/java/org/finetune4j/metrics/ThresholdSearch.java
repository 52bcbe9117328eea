package org.finetune4j.metrics;

/**
 * Chooses the decision threshold of a binary classifier that maximises the F1 of the positive class
 * (label 1) on validation data. The result is meant to be saved with the model,
 * {@code config.withDecisionThreshold(result.threshold())}, and then predicts label 1 when
 * P(label 1) &gt; threshold.
 *
 * <p>Every distinct score is a possible cut: predicting positive the examples scoring at or above it.
 * All thresholds strictly between two adjacent distinct scores make the same predictions on the
 * validation set; the midpoint is taken, as far as possible from both, so that a test example
 * scoring near the boundary is not decided by a hair's breadth. When several cuts reach the same
 * F1, the threshold nearest 0.5 (the argmax rule) wins, and of two equally near, the lower one.
 *
 * <p>The threshold stays a probability in [0, 1]: when the lowest score is exactly 0, "predict every
 * example positive" would need a negative threshold and is not a candidate.
 */
public final class ThresholdSearch {
    private ThresholdSearch() {
    }

    /**
     * @param threshold predict label 1 when P(label 1) &gt; threshold
     * @param f1 the positive-class F1 this threshold reaches on the data searched
     * @param f1AtHalf the positive-class F1 at threshold 0.5 (the argmax rule), for comparison
     */
    public record Result(double threshold, double f1, double f1AtHalf) {
    }

    /**
     * @param gold the gold label ids of a binary task (0 or 1)
     * @param probs (N, 2) predicted probabilities
     */
    public static Result bestF1(int[] gold, float[][] probs) {
        Checks.probabilities(probs, probs == null ? 0 : probs.length, 2);
        double[] p1 = new double[probs.length];
        for (int i = 0; i < probs.length; i++) {
            p1[i] = probs[i][1];
        }
        return bestF1(gold, p1);
    }

    /**
     * @param gold 1 for a positive example, 0 for a negative one
     * @param probPositive P(label 1) for each example, in [0, 1]
     * @throws IllegalArgumentException when no example is positive: F1 is 0 at every threshold, and
     *     the argmax rule should be kept
     */
    public static Result bestF1(int[] gold, double[] probPositive) {
        Checks.scores(probPositive, true);
        Checks.binaryGold(gold, probPositive.length);
        ScoreSweep s = ScoreSweep.of(gold, probPositive);
        if (s.positives == 0) {
            throw new IllegalArgumentException("no positive example among " + gold.length + ": the F1 of the"
                    + " positive class is 0 at every threshold. Keep the argmax rule (no threshold)");
        }
        long bestNum = 0; // best F1 as the fraction bestNum / bestDen, compared exactly
        long bestDen = 1;
        // The incumbent is the cut "nothing positive" (F1 = 0): any threshold at or above the highest
        // score; the midpoint with 1 keeps it a probability.
        double best = (s.thresholds[0] + 1.0) / 2;
        for (int k = 0; k < s.size(); k++) {
            // Cut k predicts positive every score >= thresholds[k], i.e. every score > t for any t in
            // [thresholds[k+1], thresholds[k]); below the lowest score the bound is 0.
            double upper = s.thresholds[k];
            double lower = k + 1 < s.size() ? s.thresholds[k + 1] : 0.0;
            if (lower == upper) {
                continue; // a lowest score of exactly 0 cannot be cut below with a threshold >= 0
            }
            double t = (lower + upper) / 2;
            if (!(t >= lower && t < upper)) {
                t = lower; // adjacent doubles: the midpoint rounded onto the upper score
            }
            long num = 2 * s.tps[k]; // F1 = 2·TP / (P + TP + FP)
            long den = s.positives + s.tps[k] + s.fps[k];
            int c = compareFractions(num, den, bestNum, bestDen);
            if (c > 0 || c == 0 && closerToHalf(t, best)) {
                bestNum = num;
                bestDen = den;
                best = t;
            }
        }
        return new Result(best, (double) bestNum / bestDen, f1At(gold, probPositive, 0.5));
    }

    /** Positive-class F1 of predicting label 1 when the score is above t. */
    static double f1At(int[] gold, double[] scores, double t) {
        long tp = 0;
        long fp = 0;
        long fn = 0;
        for (int i = 0; i < gold.length; i++) {
            boolean predicted = scores[i] > t;
            if (predicted && gold[i] == 1) {
                tp++;
            } else if (predicted) {
                fp++;
            } else if (gold[i] == 1) {
                fn++;
            }
        }
        return Scores.ratio(2 * tp, 2 * tp + fp + fn);
    }

    private static boolean closerToHalf(double t, double incumbent) {
        double d = Math.abs(t - 0.5);
        double e = Math.abs(incumbent - 0.5);
        return d < e || d == e && t < incumbent;
    }

    /** Sign of n1/d1 − n2/d2 for n ≥ 0, d &gt; 0, from the exact 128-bit products n1·d2 and n2·d1. */
    static int compareFractions(long n1, long d1, long n2, long d2) {
        long hi1 = Math.multiplyHigh(n1, d2);
        long hi2 = Math.multiplyHigh(n2, d1);
        return hi1 != hi2 ? Long.compare(hi1, hi2) : Long.compareUnsigned(n1 * d2, n2 * d1);
    }
}
