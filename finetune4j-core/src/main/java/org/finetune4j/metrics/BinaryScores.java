package org.finetune4j.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The extra numbers of a binary task, all about the positive class (id 1 unless overridden).
 *
 * @param threshold the decision threshold on P(label 1) the predictions used; null means argmax
 * @param precision TP / (TP + FP)
 * @param recall TP / (TP + FN), also called sensitivity or true-positive rate
 * @param f1 2·TP / (2·TP + FP + FN): what HF examples report as "f1" for a binary task
 * @param specificity TN / (TN + FP), the recall of the negative class
 * @param falsePositiveRate FP / (FP + TN) = 1 − specificity
 * @param rocAuc area under the ROC curve of P(positive); null when the gold labels hold one class only
 * @param averagePrecision area under the precision-recall curve of P(positive)
 *     ({@code average_precision_score}); null when no gold label is positive
 */
public record BinaryScores(int positiveClass, String positiveLabel, Double threshold, double precision, double recall,
        double f1, double specificity, double falsePositiveRate, Double rocAuc, Double averagePrecision) {

    public BinaryScores {
        if (positiveClass != 0 && positiveClass != 1) {
            throw new IllegalArgumentException("the positive class of a binary task is 0 or 1, got " + positiveClass);
        }
        if (positiveLabel == null) {
            throw new IllegalArgumentException("the positive class needs a label name");
        }
    }

    /**
     * From the confusion matrix and the positive-class scores. Ratios with a zero denominator are 0.0,
     * the same convention as precision and recall, so with no negative examples both specificity and
     * the false-positive rate read 0.0.
     */
    static BinaryScores of(ConfusionMatrix cm, int positive, Double threshold, int[] isPositive, double[] scores) {
        int negative = 1 - positive;
        long tp = cm.count(positive, positive);
        long fp = cm.count(negative, positive);
        long fn = cm.count(positive, negative);
        long tn = cm.count(negative, negative);
        Double auc = null;
        Double ap = null;
        if (tp + fn > 0) {
            ap = PrecisionRecallCurve.averagePrecision(isPositive, scores);
            if (tn + fp > 0) {
                auc = RocCurve.rocAuc(isPositive, scores);
            }
        }
        return new BinaryScores(positive, cm.labels().get(positive), threshold, Scores.ratio(tp, tp + fp),
                Scores.ratio(tp, tp + fn), Scores.ratio(2 * tp, 2 * tp + fp + fn), Scores.ratio(tn, tn + fp),
                Scores.ratio(fp, fp + tn), auc, ap);
    }

    /** A few lines for logs, under the classification report. */
    public String toText(int digits) {
        StringBuilder sb = new StringBuilder();
        sb.append("positive class: ").append(positiveLabel).append(" (id ").append(positiveClass).append("), ")
                .append(threshold == null ? "argmax" : "threshold " + threshold).append('\n');
        sb.append("precision: ").append(ReportText.fixed(precision, digits)).append('\n');
        sb.append("recall (sensitivity): ").append(ReportText.fixed(recall, digits)).append('\n');
        sb.append("f1: ").append(ReportText.fixed(f1, digits)).append('\n');
        sb.append("specificity: ").append(ReportText.fixed(specificity, digits)).append('\n');
        sb.append("false positive rate: ").append(ReportText.fixed(falsePositiveRate, digits)).append('\n');
        sb.append("roc auc: ").append(rocAuc == null ? "undefined (one class only)" : ReportText.fixed(rocAuc, digits))
                .append('\n');
        sb.append("average precision: ")
                .append(averagePrecision == null ? "undefined (no positives)" : ReportText.fixed(averagePrecision, digits))
                .append('\n');
        return sb.toString();
    }

    ObjectNode toJson() {
        ObjectNode n = ReportText.JSON.createObjectNode();
        n.put("positive_class", positiveClass);
        n.put("positive_label", positiveLabel);
        ReportText.putNullable(n, "threshold", threshold);
        n.put("precision", precision);
        n.put("recall", recall);
        n.put("f1", f1);
        n.put("specificity", specificity);
        n.put("false_positive_rate", falsePositiveRate);
        ReportText.putNullable(n, "roc_auc", rocAuc);
        ReportText.putNullable(n, "average_precision", averagePrecision);
        return n;
    }

    static BinaryScores fromJson(JsonNode n, String where) {
        String w = where + ": \"binary\"";
        if (!n.isObject() || !n.path("positive_class").isInt() || !n.path("positive_label").isTextual()) {
            throw new IllegalArgumentException(w + " must be an object with positive_class and positive_label");
        }
        return new BinaryScores(n.get("positive_class").asInt(), n.get("positive_label").asText(),
                ReportText.optionalNumber(n, "threshold", w), ReportText.number(n, "precision", w),
                ReportText.number(n, "recall", w), ReportText.number(n, "f1", w),
                ReportText.number(n, "specificity", w), ReportText.number(n, "false_positive_rate", w),
                ReportText.optionalNumber(n, "roc_auc", w), ReportText.optionalNumber(n, "average_precision", w));
    }
}
