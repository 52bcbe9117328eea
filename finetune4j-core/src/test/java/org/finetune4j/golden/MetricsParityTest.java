package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.finetune4j.metrics.BinaryScores;
import org.finetune4j.metrics.ClassificationMetrics;
import org.finetune4j.metrics.ClassificationReport;
import org.finetune4j.metrics.MultiClassRocAuc;
import org.finetune4j.metrics.PrecisionRecallCurve;
import org.finetune4j.metrics.RocCurve;
import org.finetune4j.metrics.Scores;
import org.finetune4j.metrics.ThresholdSearch;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.junit.jupiter.api.Test;

/**
 * Our metrics package against scikit-learn 1.2.1 (golden/metrics): classification reports, averages,
 * confusion matrices, ROC-AUC, average precision, the ROC and precision-recall curves and the best-F1
 * threshold, and the multi-class ROC-AUC (one-vs-rest macro and weighted, one-vs-one macro). Counts are
 * compared exactly, rates within 1e-12, and curves must have the same number of points. Two known differences, both checked here: the first ROC threshold is +Infinity in ours
 * (scikit-learn ≥ 1.3) where 1.2 writes max(score) + 1, and the best-F1 threshold is the midpoint below
 * the cut where scikit-learn's rule names the lowest score of the cut (the same predictions).
 */
@NeedsSharedData
class MetricsParityTest {
    private static final double TOL = 1e-12;

    @Test
    void binary() {
        Golden g = Golden.fixture("metrics");
        JsonNode in = g.inputs().get("binary");
        JsonNode want = g.json().get("binary");
        int[] gold = ints(in.get("y_true"));
        double[] score = Golden.doubles(in.get("y_score"));
        float[][] probs = new float[score.length][];
        for (int i = 0; i < score.length; i++) {
            probs[i] = new float[] {(float) (1 - score[i]), (float) score[i]};
        }
        // The fixture predicts positive when score >= 0.5 (two scores are exactly 0.5); our rule is
        // P(label 1) > threshold, so the same predictions need the double just below 0.5.
        double threshold = Math.nextDown(0.5);
        g.assertExact("binary:y_pred", Golden.longs(in.get("y_pred")),
                longs(ClassificationMetrics.predictions(probs, threshold)));
        ClassificationReport r = ClassificationMetrics.compute(List.of("0", "1"), gold, probs, threshold);
        checkReport(g, "binary", want.get("classification_report"), r);
        g.assertClose("binary:accuracy", want.get("accuracy").asDouble(), r.accuracy(), TOL);
        BinaryScores b = r.binary();
        g.assertClose("binary:precision_binary", want.get("precision_binary").asDouble(), b.precision(), TOL);
        g.assertClose("binary:recall_binary", want.get("recall_binary").asDouble(), b.recall(), TOL);
        g.assertClose("binary:f1_binary", want.get("f1_binary").asDouble(), b.f1(), TOL);
        checkAverages(g, "binary", want, r);
        g.assertExact("binary:confusion_matrix", flat(want.get("confusion_matrix")), flat(r.confusionMatrix().counts()));
        g.assertClose("binary:roc_auc", want.get("roc_auc").asDouble(), b.rocAuc(), TOL);
        g.assertClose("binary:average_precision", want.get("average_precision").asDouble(), b.averagePrecision(), TOL);

        checkRoc(g, "roc_curve", want.get("roc_curve"), RocCurve.of(gold, score, true), score);
        checkRoc(g, "roc_curve_drop_intermediate_false", want.get("roc_curve_drop_intermediate_false"),
                RocCurve.of(gold, score, false), score);

        JsonNode pr = want.get("precision_recall_curve");
        PrecisionRecallCurve curve = PrecisionRecallCurve.of(gold, score);
        g.assertClose("binary:precision_recall_curve.precision", Golden.doubles(pr.get("precision")), curve.precision(), TOL);
        g.assertClose("binary:precision_recall_curve.recall", Golden.doubles(pr.get("recall")), curve.recall(), TOL);
        g.assertClose("binary:precision_recall_curve.thresholds", Golden.doubles(pr.get("thresholds")), curve.thresholds(), TOL);
        g.assertClose("binary:average_precision (curve)", want.get("average_precision").asDouble(), curve.averagePrecision(), TOL);

        // Best F1: the fixture's threshold is the lowest score of the best cut (positive when score >= it);
        // ours is the midpoint between that score and the next lower one (positive when score > it).
        JsonNode best = want.get("best_f1_threshold");
        ThresholdSearch.Result found = ThresholdSearch.bestF1(gold, score);
        g.assertClose("binary:best_f1_threshold.f1", best.get("f1").asDouble(), found.f1(), TOL);
        double cut = best.get("threshold").asDouble();
        long[] theirs = new long[score.length];
        long[] ours = new long[score.length];
        for (int i = 0; i < score.length; i++) {
            theirs[i] = score[i] >= cut ? 1 : 0;
            ours[i] = score[i] > found.threshold() ? 1 : 0;
        }
        g.assertExact("binary:best_f1_threshold predictions", theirs, ours);
    }

    @Test
    void multiclass() {
        Golden g = Golden.fixture("metrics");
        JsonNode in = g.inputs().get("multiclass");
        JsonNode want = g.json().get("multiclass");
        int[] gold = ints(in.get("y_true"));
        float[][] probs = new float[gold.length][];
        for (int i = 0; i < gold.length; i++) {
            probs[i] = Golden.floats(in.get("y_score").get(i));
        }
        g.assertExact("multiclass:y_pred (argmax)", Golden.longs(in.get("y_pred")),
                longs(ClassificationMetrics.predictions(probs, null)));
        ClassificationReport r = ClassificationMetrics.compute(List.of("0", "1", "2"), gold, probs, null);
        checkReport(g, "multiclass", want.get("classification_report"), r);
        g.assertClose("multiclass:accuracy", want.get("accuracy").asDouble(), r.accuracy(), TOL);
        checkAverages(g, "multiclass", want, r);
        // Single-label: the micro averages of precision, recall and F1 all equal accuracy (package docs).
        for (String k : new String[] {"precision_micro", "recall_micro", "f1_micro"}) {
            g.assertClose("multiclass:" + k + " (= accuracy)", want.get(k).asDouble(), r.accuracy(), TOL);
        }
        g.assertExact("multiclass:confusion_matrix", flat(want.get("confusion_matrix")), flat(r.confusionMatrix().counts()));

        MultiClassRocAuc auc = r.rocAuc();
        assertEquals(MultiClassRocAuc.of(gold, probs), auc);
        g.assertClose("multiclass:roc_auc_ovr_macro", want.get("roc_auc_ovr_macro").asDouble(), auc.ovrMacro(), TOL);
        g.assertClose("multiclass:roc_auc_ovr_weighted", want.get("roc_auc_ovr_weighted").asDouble(), auc.ovrWeighted(), TOL);
        g.assertClose("multiclass:roc_auc_ovo_macro", want.get("roc_auc_ovo_macro").asDouble(), auc.ovoMacro(), TOL);
        g.assertClose("multiclass:eval_roc_auc_ovr_macro", want.get("roc_auc_ovr_macro").asDouble(),
                r.flat("eval_", null).get("eval_roc_auc_ovr_macro"), TOL);
    }

    @Test
    void zeroDivision() {
        Golden g = Golden.fixture("metrics");
        JsonNode want = g.json().get("edge_zero_division");
        assertEquals(0, want.get("zero_division").asInt());
        int[] gold = ints(want.get("y_true"));
        int[] pred = ints(want.get("y_pred"));
        float[][] probs = new float[pred.length][3];
        for (int i = 0; i < pred.length; i++) {
            probs[i][pred[i]] = 1f; // argmax gives the fixture's prediction
        }
        ClassificationReport r = ClassificationMetrics.compute(List.of("0", "1", "2"), gold, probs, null);
        checkReport(g, "edge_zero_division", want.get("classification_report"), r);
        g.assertClose("edge_zero_division:f1_macro", want.get("f1_macro").asDouble(), r.macroAvg().f1(), TOL);
    }

    /** scikit-learn's output_dict: a row per label and per average, and accuracy. */
    private static void checkReport(Golden g, String what, JsonNode want, ClassificationReport r) {
        for (String label : r.labels()) {
            checkRow(g, what + ":report[" + label + "]", want.get(label), r.scores(label));
        }
        checkRow(g, what + ":report[macro avg]", want.get("macro avg"), r.macroAvg());
        checkRow(g, what + ":report[weighted avg]", want.get("weighted avg"), r.weightedAvg());
        g.assertClose(what + ":report[accuracy]", want.get("accuracy").asDouble(), r.accuracy(), TOL);
    }

    private static void checkRow(Golden g, String what, JsonNode want, Scores s) {
        g.assertClose(what + ".precision/recall/f1-score", new double[] {want.get("precision").asDouble(),
                want.get("recall").asDouble(), want.get("f1-score").asDouble()}, new double[] {s.precision(), s.recall(), s.f1()},
                TOL);
        g.assertExact(what + ".support", new long[] {want.get("support").asLong()}, new long[] {s.support()});
    }

    private static void checkAverages(Golden g, String what, JsonNode want, ClassificationReport r) {
        for (String avg : new String[] {"macro", "weighted"}) {
            Scores s = avg.equals("macro") ? r.macroAvg() : r.weightedAvg();
            g.assertClose(what + ":precision_" + avg, want.get("precision_" + avg).asDouble(), s.precision(), TOL);
            g.assertClose(what + ":recall_" + avg, want.get("recall_" + avg).asDouble(), s.recall(), TOL);
            g.assertClose(what + ":f1_" + avg, want.get("f1_" + avg).asDouble(), s.f1(), TOL);
        }
    }

    /**
     * fpr, tpr and thresholds point for point. The first threshold is the point (0, 0) where nothing is
     * positive: scikit-learn 1.2 writes max(score) + 1 there, ours (as scikit-learn ≥ 1.3) +Infinity.
     */
    private static void checkRoc(Golden g, String name, JsonNode want, RocCurve got, double[] score) {
        g.assertClose("binary:" + name + ".fpr", Golden.doubles(want.get("fpr")), got.fpr(), TOL);
        g.assertClose("binary:" + name + ".tpr", Golden.doubles(want.get("tpr")), got.tpr(), TOL);
        double[] th = Golden.doubles(want.get("thresholds"));
        double max = java.util.Arrays.stream(score).max().orElseThrow();
        assertEquals(max + 1, th[0], TOL, "scikit-learn 1.2's first ROC threshold");
        assertEquals(Double.POSITIVE_INFINITY, got.thresholds()[0], "our first ROC threshold");
        g.assertClose("binary:" + name + ".thresholds[1:]", java.util.Arrays.copyOfRange(th, 1, th.length),
                java.util.Arrays.copyOfRange(got.thresholds(), 1, got.thresholds().length), TOL);
        g.assertClose("binary:roc_auc (" + name + ")", g.json().get("binary").get("roc_auc").asDouble(), got.auc(), TOL);
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static long[] longs(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    private static long[] flat(JsonNode rows) {
        int c = rows.get(0).size();
        long[] out = new long[rows.size() * c];
        for (int t = 0; t < rows.size(); t++) {
            for (int p = 0; p < c; p++) {
                out[t * c + p] = rows.get(t).get(p).asLong();
            }
        }
        return out;
    }

    private static long[] flat(int[][] counts) {
        int c = counts[0].length;
        long[] out = new long[counts.length * c];
        for (int t = 0; t < counts.length; t++) {
            for (int p = 0; p < c; p++) {
                out[t * c + p] = counts[t][p];
            }
        }
        return out;
    }
}
