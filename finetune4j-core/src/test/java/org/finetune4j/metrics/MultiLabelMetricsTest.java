package org.finetune4j.metrics;

import static org.finetune4j.metrics.ClassificationMetricsTest.assertMessage;
import static org.finetune4j.metrics.ClassificationMetricsTest.assertScores;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MultiLabelMetricsTest {
    private static final double EPS = 1e-12;
    private static final List<String> TOPICS = List.of("sports", "politics", "tech");

    // 4 examples, 3 labels, threshold 0.5.
    //        gold     probabilities         predicted
    //   s0   1 0 1    0.9 0.2 0.4           1 0 0
    //   s1   0 1 0    0.1 0.7 0.6           0 1 1
    //   s2   1 1 0    0.8 0.3 0.1           1 0 0
    //   s3   0 0 0    0.2 0.1 0.3           0 0 0
    // Per label:  sports   TP 2, predicted 2, gold 2 → P 1, R 1, F1 1
    //             politics TP 1, predicted 1, gold 2 → P 1, R ½, F1 2/3
    //             tech     TP 0, predicted 1, gold 1 → P 0, R 0, F1 0
    // micro:    TP 3, predicted 4, gold 5 → P ¾, R 3/5, F1 6/9
    // macro:    P (1+1+0)/3 = 2/3, R (1+½+0)/3 = ½, F1 (1+⅔+0)/3 = 5/9
    // weighted (supports 2, 2, 1): P (2+2+0)/5 = 0.8, R (2+1+0)/5 = 0.6, F1 (2+4/3+0)/5 = 2/3
    // samples:  s0 P 1, R ½, F1 ⅔;  s1 P ½, R 1, F1 ⅔;  s2 P 1, R ½, F1 ⅔;  s3 no labels at all: 0, 0, 0
    //           → P 2.5/4 = 0.625, R 2/4 = 0.5, F1 2/4 = 0.5
    // subset accuracy: only s3 is exact → ¼;  Hamming loss: 3 wrong decisions of 12 → ¼
    // micro ROC-AUC over the 12 pooled scores: positives 0.9 0.8 0.7 0.4 0.3 against negatives
    //   0.2 0.1 0.6 0.1 0.2 0.1 0.3: 7 + 7 + 7 + 6 + (5 + ½ for the tie at 0.3) = 32.5 of 35
    static final boolean[][] GOLD = {
        {true, false, true}, {false, true, false}, {true, true, false}, {false, false, false}};
    static final float[][] PROBS = {
        {0.9f, 0.2f, 0.4f}, {0.1f, 0.7f, 0.6f}, {0.8f, 0.3f, 0.1f}, {0.2f, 0.1f, 0.3f}};

    @Test
    void scoresMatchHandComputation() {
        MultiLabelReport r = MultiLabelMetrics.compute(TOPICS, GOLD, PROBS);
        assertScores(r.scores("sports"), 1, 1, 1, 2);
        assertScores(r.scores("politics"), 1, 0.5, 2.0 / 3, 2);
        assertScores(r.scores("tech"), 0, 0, 0, 1);
        assertScores(r.microAvg(), 0.75, 0.6, 6.0 / 9, 5);
        assertScores(r.macroAvg(), 2.0 / 3, 0.5, 5.0 / 9, 5);
        assertScores(r.weightedAvg(), 0.8, 0.6, 2.0 / 3, 5);
        assertScores(r.samplesAvg(), 0.625, 0.5, 0.5, 5);
        assertEquals(0.25, r.subsetAccuracy(), EPS);
        assertEquals(0.25, r.hammingLoss(), EPS);
        assertEquals(32.5 / 35, r.rocAuc(), EPS);
        assertEquals(0.5, r.threshold());
    }

    @Test
    void aHigherThresholdPredictsFewerLabels() {
        // At 0.65 tech is no longer predicted for s1 (0.6): tech P 0/0 → 0, and s1 becomes exact.
        MultiLabelReport r = MultiLabelMetrics.compute(TOPICS, GOLD, PROBS, 0.65);
        assertScores(r.scores("tech"), 0, 0, 0, 1);
        assertScores(r.microAvg(), 1, 0.6, 0.75, 5); // TP 3, predicted 3, gold 5
        assertEquals(0.5, r.subsetAccuracy(), EPS); // s1 and s3
        assertEquals(2.0 / 12, r.hammingLoss(), EPS);
    }

    @Test
    void textReportIsLaidOutLikeScikitLearn() {
        // classification_report on label-indicator data: micro avg instead of the accuracy row, and a
        // samples avg row; every average's support is the total label count.
        String expected = ""
                + "              precision    recall  f1-score   support\n"
                + "\n"
                + "      sports     1.0000    1.0000    1.0000         2\n"
                + "    politics     1.0000    0.5000    0.6667         2\n"
                + "        tech     0.0000    0.0000    0.0000         1\n"
                + "\n"
                + "   micro avg     0.7500    0.6000    0.6667         5\n"
                + "   macro avg     0.6667    0.5000    0.5556         5\n"
                + "weighted avg     0.8000    0.6000    0.6667         5\n"
                + " samples avg     0.6250    0.5000    0.5000         5\n";
        assertEquals(expected, MultiLabelMetrics.compute(TOPICS, GOLD, PROBS).toText());
    }

    @Test
    void flatMapAndJson() throws Exception {
        MultiLabelReport r = MultiLabelMetrics.compute(TOPICS, GOLD, PROBS);
        Map<String, Double> m = r.flat("eval_", 0.25);
        assertEquals(List.of("eval_loss", "eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_micro_f1",
                "eval_micro_precision", "eval_micro_recall", "eval_macro_f1", "eval_macro_precision", "eval_macro_recall",
                "eval_weighted_f1", "eval_weighted_precision", "eval_weighted_recall", "eval_samples_f1",
                "eval_samples_precision", "eval_samples_recall", "eval_hamming_loss", "eval_roc_auc"),
                List.copyOf(m.keySet()));
        assertEquals(0.25, m.get("eval_accuracy"), EPS); // subset accuracy
        assertEquals(6.0 / 9, m.get("eval_f1"), EPS); // micro
        assertEquals(5.0 / 9, m.get("eval_macro_f1"), EPS);
        assertEquals(0.5, m.get("eval_samples_f1"), EPS);

        JsonNode n = new ObjectMapper().readTree(r.toJson());
        assertEquals(2.0 / 3, n.get("politics").get("f1-score").asDouble(), EPS);
        assertEquals(5, n.get("samples avg").get("support").asInt());
        assertEquals(0.25, n.get("hamming_loss").asDouble(), EPS);
        assertEquals(r, MultiLabelReport.fromJson(r.toJson()));
    }

    @Test
    void noGoldLabelsAtAllLeavesRocAucUndefined() {
        MultiLabelReport r = MultiLabelMetrics.compute(List.of("x", "y"), new boolean[][] {{false, false}},
                new float[][] {{0.7f, 0.2f}});
        assertNull(r.rocAuc());
        assertEquals(0.0, r.weightedAvg().f1()); // no support anywhere: scikit-learn's 0.0
        assertEquals(0.0, r.subsetAccuracy());
        assertEquals(0.5, r.hammingLoss(), EPS);
        assertEquals(null, r.flat("", null).get("roc_auc"));
    }

    @Test
    void badInputIsRejected() {
        assertMessage("gold row 1 has 2 values but there are 3 labels", () -> MultiLabelMetrics.compute(TOPICS,
                new boolean[][] {{true, false, true}, {true, false}}, PROBS));
        assertMessage("there are 4 rows of probabilities for 1 gold labels", () -> MultiLabelMetrics.compute(TOPICS,
                new boolean[][] {{true, false, true}}, PROBS));
        assertMessage("probability at row 0, label 2 is Infinity", () -> MultiLabelMetrics.compute(TOPICS,
                new boolean[][] {{true, false, true}}, new float[][] {{0.1f, 0.2f, Float.POSITIVE_INFINITY}}));
        assertMessage("decision threshold -0.1", () -> MultiLabelMetrics.compute(TOPICS, GOLD, PROBS, -0.1));
    }
}
