package org.finetune4j.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClassificationMetricsTest {
    private static final double EPS = 1e-12;
    private static final List<String> SENTIMENT = List.of("negative", "neutral", "positive");

    /**
     * Probability rows whose argmax is the given prediction: 0.7 on it, the rest shared out. Only the
     * argmax matters to the single-label scores.
     */
    static float[][] probsPredicting(int[] pred, int classes) {
        float[][] p = new float[pred.length][classes];
        for (int i = 0; i < pred.length; i++) {
            for (int k = 0; k < classes; k++) {
                p[i][k] = k == pred[i] ? 0.7f : 0.3f / (classes - 1);
            }
        }
        return p;
    }

    // 10 examples, 3 classes.
    //   gold: 0 0 0 | 1 1 1 1 | 2 2 2
    //   pred: 0 0 1 | 1 1 2 0 | 2 2 0
    // Confusion matrix (rows true, columns predicted):
    //   negative [2 1 0]   support 3
    //   neutral  [1 2 1]   support 4
    //   positive [1 0 2]   support 3
    //   column sums (predicted): 4 3 3
    // negative: P = 2/4 = 0.5,  R = 2/3,       F1 = 2·2/(3+4) = 4/7
    // neutral:  P = 2/3,        R = 2/4 = 0.5, F1 = 2·2/(4+3) = 4/7
    // positive: P = 2/3,        R = 2/3,       F1 = 2·2/(3+3) = 2/3
    // accuracy = (2+2+2)/10 = 0.6
    // macro:    P = (1/2 + 2/3 + 2/3)/3 = 11/18, R = (2/3 + 1/2 + 2/3)/3 = 11/18, F1 = (4/7 + 4/7 + 2/3)/3 = 38/63
    // weighted: P = (1/2·3 + 2/3·4 + 2/3·3)/10 = 37/60, R = (2 + 2 + 2)/10 = 0.6, F1 = (4/7·3 + 4/7·4 + 2/3·3)/10 = 0.6
    static final int[] GOLD3 = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
    static final int[] PRED3 = {0, 0, 1, 1, 1, 2, 0, 2, 2, 0};

    @Test
    void threeClassScoresMatchHandComputation() {
        ClassificationReport r = ClassificationMetrics.compute(SENTIMENT, GOLD3, probsPredicting(PRED3, 3), null);

        assertArrayEquals(new int[][] {{2, 1, 0}, {1, 2, 1}, {1, 0, 2}}, r.confusionMatrix().counts());
        assertEquals(0.6, r.accuracy(), EPS);
        assertScores(r.scores("negative"), 0.5, 2.0 / 3, 4.0 / 7, 3);
        assertScores(r.scores("neutral"), 2.0 / 3, 0.5, 4.0 / 7, 4);
        assertScores(r.scores("positive"), 2.0 / 3, 2.0 / 3, 2.0 / 3, 3);
        assertScores(r.macroAvg(), 11.0 / 18, 11.0 / 18, 38.0 / 63, 10);
        assertScores(r.weightedAvg(), 37.0 / 60, 0.6, 0.6, 10);
        assertFalse(r.isBinary());
        assertNull(r.binary());
        // For more than two classes the headline F1 is the macro average.
        assertEquals(38.0 / 63, r.f1(), EPS);
    }

    @Test
    void textReportIsLaidOutLikeScikitLearn() {
        ClassificationReport r = ClassificationMetrics.compute(SENTIMENT, GOLD3, probsPredicting(PRED3, 3), null);
        // What classification_report(gold, pred, target_names=SENTIMENT, digits=4) prints: the name
        // column is max(len(names), len("weighted avg"), digits) = 12 wide, each number column 9
        // wide after one space, and the accuracy row leaves precision and recall blank.
        String expected = ""
                + "              precision    recall  f1-score   support\n"
                + "\n"
                + "    negative     0.5000    0.6667    0.5714         3\n"
                + "     neutral     0.6667    0.5000    0.5714         4\n"
                + "    positive     0.6667    0.6667    0.6667         3\n"
                + "\n"
                + "    accuracy                         0.6000        10\n"
                + "   macro avg     0.6111    0.6111    0.6032        10\n"
                + "weighted avg     0.6167    0.6000    0.6000        10\n";
        assertEquals(expected, r.toText());
    }

    @Test
    void textReportWidensForLongNamesAndRoundsHalfToEvenAsPython() {
        // gold: 8 × ham, 4 × spam; predicted: ham 5 right 3 wrong, spam 3 wrong 1 right.
        // Confusion [[5, 3], [3, 1]]: ham P = R = F1 = 5/8 = 0.625, spam P = R = F1 = 1/4;
        // accuracy 6/12; macro (0.625 + 0.25)/2 = 0.4375; weighted (0.625·8 + 0.25·4)/12 = 0.5.
        // 0.625 is exact in binary: Python's "{:.2f}" rounds the tie to even, "0.62" (Java's "%.2f"
        // would print "0.63"). The name column is len("spam or phishing") = 16 wide.
        int[] gold = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
        int[] pred = {0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1};
        ClassificationReport r = ClassificationMetrics.compute(List.of("ham", "spam or phishing"), gold,
                probsPredicting(pred, 2), null);
        String expected = ""
                + "                  precision    recall  f1-score   support\n"
                + "\n"
                + "             ham       0.62      0.62      0.62         8\n"
                + "spam or phishing       0.25      0.25      0.25         4\n"
                + "\n"
                + "        accuracy                           0.50        12\n"
                + "       macro avg       0.44      0.44      0.44        12\n"
                + "    weighted avg       0.50      0.50      0.50        12\n";
        assertEquals(expected, r.toText(2));
    }

    @Test
    void numbersAreFormattedAsPythonFormatsThem() {
        assertEquals("0.12", ReportText.fixed(0.125, 2)); // exact tie: to even
        assertEquals("0.38", ReportText.fixed(0.375, 2)); // exact tie: to even
        assertEquals("2.67", ReportText.fixed(2.675, 2)); // 2.675 is 2.67499999... in binary
        assertEquals("1.0000", ReportText.fixed(1.0, 4));
        assertEquals("0.0000", ReportText.fixed(0.0, 4));
        assertEquals("1", ReportText.fixed(0.5001, 0));
    }

    // 10 examples, binary, positive class "pos" (id 1); P(pos):
    //   negatives: 0.10 0.20 0.30 0.60 0.40 0.55
    //   positives: 0.90 0.35 0.70 0.80
    // argmax (P(pos) > 0.5): predicted pos = 0.60, 0.55 (wrong), 0.90, 0.70, 0.80 (right)
    //   TP = 3, FP = 2, FN = 1 (0.35), TN = 4; confusion [[4, 2], [1, 3]]
    //   pos: P = 3/5, R = 3/4, F1 = 6/9;  neg: P = 4/5, R = 4/6, F1 = 8/11
    //   specificity = TN/(TN+FP) = 4/6; false-positive rate = 2/6; accuracy 7/10
    // ROC-AUC: for each positive, the negatives it outscores: 0.90 → 6, 0.80 → 6, 0.70 → 6,
    //   0.35 → 3 (0.10, 0.20, 0.30); (6+6+6+3)/(4·6) = 21/24
    // Average precision: ranked by score the positives come 1st, 2nd, 3rd and 7th, so
    //   AP = 1/4·(1/1 + 2/2 + 3/3 + 4/7) = 25/28
    static final int[] GOLD2 = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
    static final float[] POS2 = {0.10f, 0.20f, 0.30f, 0.60f, 0.40f, 0.55f, 0.90f, 0.35f, 0.70f, 0.80f};

    static float[][] binaryProbs(float[] pPositive) {
        float[][] p = new float[pPositive.length][];
        for (int i = 0; i < p.length; i++) {
            p[i] = new float[] {1 - pPositive[i], pPositive[i]};
        }
        return p;
    }

    @Test
    void binaryExtrasMatchHandComputation() {
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "pos"), GOLD2, binaryProbs(POS2), null);
        assertArrayEquals(new int[][] {{4, 2}, {1, 3}}, r.confusionMatrix().counts());
        assertEquals(0.7, r.accuracy(), EPS);
        assertScores(r.scores("neg"), 0.8, 4.0 / 6, 8.0 / 11, 6);
        assertScores(r.scores("pos"), 0.6, 0.75, 6.0 / 9, 4);
        BinaryScores b = r.binary();
        assertEquals(1, b.positiveClass());
        assertEquals("pos", b.positiveLabel());
        assertNull(b.threshold());
        assertEquals(0.6, b.precision(), EPS);
        assertEquals(0.75, b.recall(), EPS);
        assertEquals(6.0 / 9, b.f1(), EPS);
        assertEquals(4.0 / 6, b.specificity(), EPS);
        assertEquals(2.0 / 6, b.falsePositiveRate(), EPS);
        assertEquals(21.0 / 24, b.rocAuc(), EPS);
        assertEquals(25.0 / 28, b.averagePrecision(), EPS);
        assertEquals(6.0 / 9, r.f1(), EPS); // the headline F1 of a binary task is the positive class's
    }

    @Test
    void thresholdMovesTheBinaryPredictionsButNotTheRanking() {
        // P(pos) > 0.58: predicted pos = 0.60 (wrong), 0.90, 0.70, 0.80 → TP 3, FP 1, FN 1, TN 5.
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "pos"), GOLD2, binaryProbs(POS2), 0.58);
        assertArrayEquals(new int[][] {{5, 1}, {1, 3}}, r.confusionMatrix().counts());
        assertEquals(0.58, r.binary().threshold());
        assertEquals(0.75, r.binary().precision(), EPS);
        assertEquals(0.75, r.binary().f1(), EPS);
        assertEquals(5.0 / 6, r.binary().specificity(), EPS);
        assertEquals(1.0 / 6, r.binary().falsePositiveRate(), EPS);
        assertEquals(21.0 / 24, r.binary().rocAuc(), EPS); // ROC-AUC does not depend on the threshold
    }

    @Test
    void positiveClassCanBeOverridden() {
        // With "neg" (id 0) as the positive class the roles swap: TP = 4, FP = 1, FN = 2, TN = 3.
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "pos"), GOLD2, binaryProbs(POS2), null, 0);
        BinaryScores b = r.binary();
        assertEquals("neg", b.positiveLabel());
        assertEquals(0.8, b.precision(), EPS);
        assertEquals(4.0 / 6, b.recall(), EPS);
        assertEquals(8.0 / 11, b.f1(), EPS);
        assertEquals(3.0 / 4, b.specificity(), EPS);
        assertEquals(1.0 / 4, b.falsePositiveRate(), EPS);
        assertEquals(21.0 / 24, b.rocAuc(), 1e-6); // P(neg) = 1 − P(pos) ranks the other way round: same area
    }

    @Test
    void argmaxTakesTheFirstOfTiedProbabilities() {
        int[] pred = ClassificationMetrics.predictions(new float[][] {{0.4f, 0.4f, 0.2f}, {0.1f, 0.45f, 0.45f}}, null);
        assertArrayEquals(new int[] {0, 1}, pred);
        // A threshold is strict: P(1) = 0.5 with threshold 0.5 predicts 0, as argmax over (0.5, 0.5) does.
        assertArrayEquals(new int[] {0, 1},
                ClassificationMetrics.predictions(new float[][] {{0.5f, 0.5f}, {0.4f, 0.6f}}, 0.5));
    }

    @Test
    void aClassNeverPredictedScoresZeroAsScikitLearnDefault() {
        // gold: a a b b c; pred: a a b b b — "c" is never predicted.
        // a: P 1, R 1, F1 1 (support 2);  b: P 2/3, R 1, F1 4/5 (support 2)
        // c: P = 0/0 → 0, R = 0/1 = 0, F1 = 0/(1+0) = 0 (support 1)
        // macro F1 = (1 + 0.8 + 0)/3 = 0.6; weighted F1 = (1·2 + 0.8·2 + 0·1)/5 = 0.72; macro P = 5/9
        ClassificationReport r = ClassificationMetrics.compute(List.of("a", "b", "c"), new int[] {0, 0, 1, 1, 2},
                probsPredicting(new int[] {0, 0, 1, 1, 1}, 3), null);
        assertScores(r.scores("c"), 0, 0, 0, 1);
        assertScores(r.scores("b"), 2.0 / 3, 1, 0.8, 2);
        assertScores(r.macroAvg(), 5.0 / 9, 2.0 / 3, 0.6, 5);
        assertEquals(0.72, r.weightedAvg().f1(), EPS);
        assertEquals(0.8, r.accuracy(), EPS);
    }

    @Test
    void aLabelAbsentFromGoldCountsInTheMacroAverageOnly() {
        // gold: a a b b; pred: a c b b — "c" has support 0 and one wrong prediction.
        // a: P 1, R 1/2, F1 2/3;  b: P 1, R 1, F1 1;  c: P 0/1 = 0, R 0/0 → 0, F1 0/(0+1) = 0
        // macro F1 = (2/3 + 1 + 0)/3 = 5/9; weighted F1 = (2/3·2 + 1·2 + 0·0)/4 = 5/6 (c weighs nothing)
        ClassificationReport r = ClassificationMetrics.compute(List.of("a", "b", "c"), new int[] {0, 0, 1, 1},
                probsPredicting(new int[] {0, 2, 1, 1}, 3), null);
        assertScores(r.scores("c"), 0, 0, 0, 0);
        assertEquals(5.0 / 9, r.macroAvg().f1(), EPS);
        assertEquals(5.0 / 6, r.weightedAvg().f1(), EPS);
    }

    @Test
    void binaryWithOneGoldClassLeavesTheUndefinedScoresOut() {
        // Every example is positive: specificity and FPR have no negatives (0/0 → 0), ROC-AUC is
        // undefined (roc_auc_score raises), average precision is defined (here 1: every cut is pure).
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "pos"), new int[] {1, 1, 1},
                binaryProbs(new float[] {0.9f, 0.4f, 0.7f}), null);
        BinaryScores b = r.binary();
        assertNull(b.rocAuc());
        assertEquals(1.0, b.averagePrecision(), EPS);
        assertEquals(0.0, b.specificity());
        assertEquals(0.0, b.falsePositiveRate());
        assertEquals(0.8, b.f1(), EPS); // TP 2, FN 1: 4/5
        Map<String, Double> m = r.flat("eval_", null);
        assertFalse(m.containsKey("eval_roc_auc"));
        assertTrue(m.containsKey("eval_average_precision"));

        // Every example negative: no positives, so average precision is undefined too.
        ClassificationReport neg = ClassificationMetrics.compute(List.of("neg", "pos"), new int[] {0, 0},
                binaryProbs(new float[] {0.9f, 0.4f}), null);
        assertNull(neg.binary().rocAuc());
        assertNull(neg.binary().averagePrecision());
        assertEquals(0.0, neg.binary().f1());
    }

    @Test
    void flatMapUsesTheTrainerNames() {
        ClassificationReport bin = ClassificationMetrics.compute(List.of("neg", "pos"), GOLD2, binaryProbs(POS2), null);
        Map<String, Double> m = bin.flat("eval_", 0.4321);
        assertEquals(List.of("eval_loss", "eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_macro_f1",
                "eval_macro_precision", "eval_macro_recall", "eval_weighted_f1", "eval_weighted_precision",
                "eval_weighted_recall", "eval_specificity", "eval_false_positive_rate", "eval_roc_auc",
                "eval_average_precision"), List.copyOf(m.keySet()));
        assertEquals(0.4321, m.get("eval_loss"));
        assertEquals(0.7, m.get("eval_accuracy"), EPS);
        assertEquals(6.0 / 9, m.get("eval_f1"), EPS); // positive class
        assertEquals(0.6, m.get("eval_precision"), EPS);
        assertEquals(0.75, m.get("eval_recall"), EPS);
        assertEquals(23.0 / 33, m.get("eval_macro_f1"), EPS); // (8/11 + 6/9)/2
        assertEquals(4.0 / 6, m.get("eval_specificity"), EPS);
        assertEquals(21.0 / 24, m.get("eval_roc_auc"), EPS);

        ClassificationReport multi = ClassificationMetrics.compute(SENTIMENT, GOLD3, probsPredicting(PRED3, 3), null);
        Map<String, Double> t = multi.flat("test_", null);
        assertFalse(t.containsKey("test_loss"));
        assertFalse(t.containsKey("test_roc_auc"));
        assertFalse(t.containsKey("test_specificity"));
        assertEquals(38.0 / 63, t.get("test_f1"), EPS); // macro for multi-class
        assertEquals(11.0 / 18, t.get("test_precision"), EPS);
        assertEquals(0.6, t.get("test_weighted_f1"), EPS);
        assertTrue(multi.flat("", null).containsKey("accuracy"));
        assertThrows(UnsupportedOperationException.class, () -> t.put("x", 1.0));
    }

    @Test
    void jsonHasScikitLearnLayoutAndRoundTrips() throws Exception {
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "pos"), GOLD2, binaryProbs(POS2), 0.58);
        JsonNode n = new ObjectMapper().readTree(r.toJson());
        List<String> keys = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("neg", "pos", "accuracy", "macro avg", "weighted avg", "confusion_matrix", "binary"), keys);
        assertEquals(0.75, n.get("pos").get("precision").asDouble(), EPS);
        assertEquals(0.75, n.get("pos").get("f1-score").asDouble(), EPS);
        assertEquals(4, n.get("pos").get("support").asInt());
        assertEquals(0.8, n.get("accuracy").asDouble(), EPS);
        assertEquals(10, n.get("macro avg").get("support").asInt());
        assertEquals("[[5,1],[1,3]]", n.get("confusion_matrix").get("matrix").toString());
        assertEquals("[\"neg\",\"pos\"]", n.get("confusion_matrix").get("labels").toString());
        assertEquals(0.58, n.get("binary").get("threshold").asDouble());
        assertEquals(5.0 / 6, n.get("binary").get("specificity").asDouble(), EPS);
        assertEquals(21.0 / 24, n.get("binary").get("roc_auc").asDouble(), EPS);

        assertEquals(r, ClassificationReport.fromJson(r.toJson()));
        ClassificationReport multi = ClassificationMetrics.compute(SENTIMENT, GOLD3, probsPredicting(PRED3, 3), null);
        assertEquals(multi, ClassificationReport.fromJson(multi.toJson()));
        ClassificationReport undefinedAuc = ClassificationMetrics.compute(List.of("neg", "pos"), new int[] {1, 1},
                binaryProbs(new float[] {0.9f, 0.4f}), null);
        assertTrue(new ObjectMapper().readTree(undefinedAuc.toJson()).get("binary").get("roc_auc").isNull());
        assertEquals(undefinedAuc, ClassificationReport.fromJson(undefinedAuc.toJson()));
    }

    @Test
    void confusionMatrixPrintsAsATable() {
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "positive"), GOLD2, binaryProbs(POS2), null);
        String expected = ""
                + "true\\pred  neg  positive\n"
                + "      neg    4         2\n"
                + " positive    1         3\n";
        assertEquals(expected, r.confusionMatrix().toText());
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        List<String> ab = List.of("a", "b");
        float[][] two = {{0.2f, 0.8f}, {0.6f, 0.4f}};
        assertMessage("2 rows of probabilities for 3 gold labels",
                () -> ClassificationMetrics.compute(ab, new int[] {0, 1, 1}, two, null));
        assertMessage("gold label id 2 at row 1 is out of range",
                () -> ClassificationMetrics.compute(ab, new int[] {0, 2}, two, null));
        assertMessage("gold label id -1 at row 0",
                () -> ClassificationMetrics.compute(ab, new int[] {-1, 0}, two, null));
        assertMessage("probabilities row 1 has 3 values but there are 2 labels",
                () -> ClassificationMetrics.compute(ab, new int[] {0, 1}, new float[][] {{0.2f, 0.8f}, {0.1f, 0.1f, 0.8f}},
                        null));
        assertMessage("probability at row 1, label 0 is NaN",
                () -> ClassificationMetrics.compute(ab, new int[] {0, 1}, new float[][] {{0.2f, 0.8f}, {Float.NaN, 0.1f}},
                        null));
        assertMessage("the gold labels are empty",
                () -> ClassificationMetrics.compute(ab, new int[0], new float[0][], null));
        assertMessage("at least 2 labels", () -> ClassificationMetrics.compute(List.of("a"), new int[] {0},
                new float[][] {{1f}}, null));
        assertMessage("appears twice", () -> ClassificationMetrics.compute(List.of("a", "a"), new int[] {0, 1}, two,
                null));
        assertMessage("label name \"accuracy\" (id 1) is a key of the classification report",
                () -> ClassificationMetrics.compute(List.of("a", "accuracy"), new int[] {0, 1}, two, null));
        assertMessage("a decision threshold applies to binary tasks only",
                () -> ClassificationMetrics.compute(SENTIMENT, GOLD3, probsPredicting(PRED3, 3), 0.5));
        assertMessage("decision threshold 1.5 is not a probability",
                () -> ClassificationMetrics.compute(ab, new int[] {0, 1}, two, 1.5));
        assertMessage("a positive class applies to binary tasks only",
                () -> ClassificationMetrics.compute(SENTIMENT, GOLD3, probsPredicting(PRED3, 3), null, 0));
    }

    static void assertScores(Scores s, double precision, double recall, double f1, long support) {
        assertEquals(precision, s.precision(), EPS, s.name() + " precision");
        assertEquals(recall, s.recall(), EPS, s.name() + " recall");
        assertEquals(f1, s.f1(), EPS, s.name() + " f1");
        assertEquals(support, s.support(), s.name() + " support");
    }

    static void assertMessage(String part, org.junit.jupiter.api.function.Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
    }
}
