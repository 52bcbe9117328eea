package org.finetune4j.metrics;

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

/** Multi-class ROC-AUC by hand on 6 rows; scikit-learn's own numbers are checked in MetricsParityTest. */
class MultiClassRocAucTest {
    private static final double EPS = 1e-15;
    private static final List<String> LABELS = List.of("a", "b", "c");

    // 6 rows, 3 classes, supports 3 / 2 / 1, with tied scores (a tie counts one half).
    //   row gold  P(a) P(b) P(c)
    //   0   a     0.6  0.3  0.1
    //   1   a     0.3  0.3  0.4
    //   2   a     0.5  0.4  0.1
    //   3   b     0.3  0.5  0.2
    //   4   b     0.2  0.2  0.6
    //   5   c     0.3  0.1  0.6
    static final int[] GOLD = {0, 0, 0, 1, 1, 2};
    static final float[][] PROBS = {
        {0.6f, 0.3f, 0.1f}, {0.3f, 0.3f, 0.4f}, {0.5f, 0.4f, 0.1f}, {0.3f, 0.5f, 0.2f}, {0.2f, 0.2f, 0.6f}, {0.3f, 0.1f, 0.6f}};

    // One-vs-rest, wins over (positive, negative) pairs:
    //   a: positives 0.6, 0.3, 0.5 vs negatives 0.3, 0.2, 0.3: 3 + 3 + (0.5 + 1 + 0.5) = 8 of 9
    //   b: positives 0.5, 0.2 vs 0.3, 0.3, 0.4, 0.1: 4 + 1 = 5 of 8
    //   c: positive 0.6 vs 0.1, 0.4, 0.1, 0.2, 0.6: 4 + 0.5 = 4.5 of 5
    static final double OVR_MACRO = (8.0 / 9 + 5.0 / 8 + 9.0 / 10) / 3; // 869/1080
    static final double OVR_WEIGHTED = (3 * 8.0 / 9 + 2 * 5.0 / 8 + 1 * 9.0 / 10) / 6; // 289/360
    // One-vs-one, on the rows of each pair only:
    //   (a, b): P(a), a positive: 0.6, 0.3, 0.5 vs 0.3, 0.2: 2 + 1.5 + 2 = 5.5 of 6
    //           P(b), b positive: 0.5, 0.2 vs 0.3, 0.3, 0.4: 3 + 0 = 3 of 6        → (11/12 + 1/2) / 2 = 17/24
    //   (a, c): P(a): 0.6, 0.3, 0.5 vs 0.3: 2.5 of 3; P(c): 0.6 vs 0.1, 0.4, 0.1: 3 of 3 → (5/6 + 1) / 2 = 11/12
    //   (b, c): P(b): 0.5, 0.2 vs 0.1: 2 of 2; P(c): 0.6 vs 0.2, 0.6: 1.5 of 2     → (1 + 3/4) / 2 = 7/8
    static final double OVO_MACRO = (17.0 / 24 + 11.0 / 12 + 7.0 / 8) / 3; // 5/6

    @Test
    void handComputedOneVsRestAndOneVsOne() {
        MultiClassRocAuc auc = MultiClassRocAuc.of(GOLD, PROBS);
        assertEquals(869.0 / 1080, OVR_MACRO, EPS);
        assertEquals(289.0 / 360, OVR_WEIGHTED, EPS);
        assertEquals(5.0 / 6, OVO_MACRO, EPS);
        assertEquals(OVR_MACRO, auc.ovrMacro(), EPS);
        assertEquals(OVR_WEIGHTED, auc.ovrWeighted(), EPS);
        assertEquals(OVO_MACRO, auc.ovoMacro(), EPS);
    }

    @Test
    void theReportCarriesItAndTheFlatMapHasTheOneVsRestMacroArea() throws Exception {
        ClassificationReport r = ClassificationMetrics.compute(LABELS, GOLD, PROBS, null);
        assertEquals(MultiClassRocAuc.of(GOLD, PROBS), r.rocAuc());
        Map<String, Double> m = r.flat("eval_", 0.5);
        assertEquals(OVR_MACRO, m.get("eval_roc_auc_ovr_macro"), EPS);
        assertEquals("eval_roc_auc_ovr_macro", List.copyOf(m.keySet()).get(m.size() - 1));
        assertFalse(m.containsKey("eval_roc_auc"));

        JsonNode auc = new ObjectMapper().readTree(r.toJson()).get("roc_auc");
        assertEquals(OVR_MACRO, auc.get("ovr_macro").asDouble(), EPS);
        assertEquals(OVR_WEIGHTED, auc.get("ovr_weighted").asDouble(), EPS);
        assertEquals(OVO_MACRO, auc.get("ovo_macro").asDouble(), EPS);
        assertEquals(r, ClassificationReport.fromJson(r.toJson()));
    }

    @Test
    void aClassMissingFromTheGoldLabelsLeavesItOut() {
        // Rows 0-4 only: class c never occurs, where roc_auc_score(multi_class=...) raises.
        int[] gold = {0, 0, 0, 1, 1};
        float[][] probs = java.util.Arrays.copyOf(PROBS, 5);
        assertFalse(MultiClassRocAuc.isDefined(gold, probs));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MultiClassRocAuc.of(gold, probs));
        assertTrue(e.getMessage().contains("class id 2 never occurs in the 5 gold labels"), e.getMessage());
        ClassificationReport r = ClassificationMetrics.compute(LABELS, gold, probs, null);
        assertNull(r.rocAuc());
        assertFalse(r.flat("eval_", null).containsKey("eval_roc_auc_ovr_macro"));
        assertFalse(r.toJsonNode().has("roc_auc"));
    }

    @Test
    void rowsThatAreNotProbabilitiesLeaveItOut() {
        float[][] scores = new float[PROBS.length][];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = PROBS[i].clone();
        }
        scores[3][0] += 0.01f; // row 3 sums to 1.01
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MultiClassRocAuc.of(GOLD, scores));
        assertTrue(e.getMessage().contains("row 3 sums to 1.0") && e.getMessage().contains("softmax"), e.getMessage());
        assertNull(ClassificationMetrics.compute(LABELS, GOLD, scores, null).rocAuc());
    }

    @Test
    void binaryTasksKeepTheirOwnRocAuc() {
        float[][] probs = {{0.8f, 0.2f}, {0.3f, 0.7f}, {0.6f, 0.4f}};
        ClassificationReport r = ClassificationMetrics.compute(List.of("neg", "pos"), new int[] {0, 1, 1}, probs, null);
        assertNull(r.rocAuc());
        assertFalse(r.flat("", null).containsKey("roc_auc_ovr_macro"));
        assertEquals(1.0, r.binary().rocAuc(), EPS);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MultiClassRocAuc.of(new int[] {0, 1, 1}, probs));
        assertTrue(e.getMessage().contains("at least 3 classes"), e.getMessage());
    }
}
