package org.finetune4j.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The evaluation of a multi-label classifier on one data set (see {@link MultiLabelMetrics}).
 *
 * @param perLabel one row per label, in id order; support = examples that carry the label
 * @param microAvg precision, recall and F1 of all (example, label) decisions pooled
 * @param macroAvg the unweighted mean over labels
 * @param weightedAvg the mean over labels weighted by support
 * @param samplesAvg the mean over examples of each example's own precision, recall and F1
 * @param subsetAccuracy examples whose predicted label set equals the gold set exactly
 *     ({@code accuracy_score} on multi-label data)
 * @param hammingLoss the fraction of (example, label) decisions that are wrong
 * @param threshold a label is predicted when its probability is above this
 * @param rocAuc ROC-AUC of all (example, label) probabilities pooled ({@code roc_auc_score(...,
 *     average="micro")}); null when every decision is positive or every one negative
 */
public record MultiLabelReport(List<Scores> perLabel, Scores microAvg, Scores macroAvg, Scores weightedAvg,
        Scores samplesAvg, double subsetAccuracy, double hammingLoss, double threshold, Double rocAuc) {

    public MultiLabelReport {
        perLabel = List.copyOf(perLabel);
        if (perLabel.isEmpty()) {
            throw new IllegalArgumentException("a multi-label report needs at least one label");
        }
    }

    public List<String> labels() {
        return perLabel.stream().map(Scores::name).toList();
    }

    /** The row of one label. */
    public Scores scores(String label) {
        int k = labels().indexOf(label);
        if (k < 0) {
            throw new IllegalArgumentException("no label \"" + label + "\" in " + labels());
        }
        return perLabel.get(k);
    }

    /**
     * The headline F1, the one {@code eval_f1} holds: the micro average, which HF's multi-label
     * examples report ({@code f1_score(y_true, y_pred, average="micro")}). Unlike single-label tasks,
     * micro F1 is not accuracy here.
     */
    public double f1() {
        return microAvg.f1();
    }

    /** scikit-learn's {@code classification_report} on multi-label data: micro, macro, weighted and samples rows. */
    public String toText() {
        return toText(ClassificationReport.DEFAULT_DIGITS);
    }

    public String toText(int digits) {
        return ReportText.table(perLabel, null, 0, List.of(microAvg, macroAvg, weightedAvg, samplesAvg), digits);
    }

    /**
     * scikit-learn's {@code output_dict=True} layout (one object per label and per average), plus
     * "subset_accuracy", "hamming_loss", "threshold" and "roc_auc" (null when undefined).
     */
    public ObjectNode toJsonNode() {
        ObjectNode n = ReportText.JSON.createObjectNode();
        for (Scores s : perLabel) {
            n.set(s.name(), ReportText.json(s));
        }
        for (Scores s : List.of(microAvg, macroAvg, weightedAvg, samplesAvg)) {
            n.set(s.name(), ReportText.json(s));
        }
        n.put("subset_accuracy", subsetAccuracy);
        n.put("hamming_loss", hammingLoss);
        n.put("threshold", threshold);
        ReportText.putNullable(n, "roc_auc", rocAuc);
        return n;
    }

    public String toJson() {
        return ReportText.write(toJsonNode());
    }

    /** Reads what {@link #toJson()} wrote; labels are the keys that are not report keys, in file order. */
    public static MultiLabelReport fromJson(String json) {
        String where = "multi-label report JSON";
        ObjectNode n = ReportText.read(json, where);
        List<Scores> perLabel = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!Checks.RESERVED.contains(e.getKey())) {
                perLabel.add(ReportText.scores(e.getKey(), e.getValue(), where));
            }
        }
        return new MultiLabelReport(perLabel, ReportText.scores("micro avg", n.get("micro avg"), where),
                ReportText.scores("macro avg", n.get("macro avg"), where),
                ReportText.scores("weighted avg", n.get("weighted avg"), where),
                ReportText.scores("samples avg", n.get("samples avg"), where),
                ReportText.number(n, "subset_accuracy", where), ReportText.number(n, "hamming_loss", where),
                ReportText.number(n, "threshold", where), ReportText.optionalNumber(n, "roc_auc", where));
    }

    /**
     * The flat metrics of {@code eval_results.json}: {@code prefix + "loss"} (when given), accuracy
     * (subset accuracy, as {@code accuracy_score} reports it), f1, precision and recall (micro, see
     * {@link #f1()}), micro_, macro_, weighted_ and samples_ f1, precision and recall, hamming_loss,
     * and roc_auc (micro; left out when undefined).
     *
     * @param prefix put before every key as is: "eval_", "test_", or "" for bare names
     * @param loss the mean loss over the data set, or null when there is none
     */
    public Map<String, Double> flat(String prefix, Double loss) {
        if (prefix == null) {
            throw new IllegalArgumentException("prefix is null; use \"\" for keys without a prefix");
        }
        Map<String, Double> m = new LinkedHashMap<>();
        if (loss != null) {
            m.put(prefix + "loss", loss);
        }
        m.put(prefix + "accuracy", subsetAccuracy);
        m.put(prefix + "f1", microAvg.f1());
        m.put(prefix + "precision", microAvg.precision());
        m.put(prefix + "recall", microAvg.recall());
        for (Scores s : List.of(microAvg, macroAvg, weightedAvg, samplesAvg)) {
            String avg = s.name().substring(0, s.name().indexOf(' ')); // "micro avg" -> "micro"
            m.put(prefix + avg + "_f1", s.f1());
            m.put(prefix + avg + "_precision", s.precision());
            m.put(prefix + avg + "_recall", s.recall());
        }
        m.put(prefix + "hamming_loss", hammingLoss);
        if (rocAuc != null) {
            m.put(prefix + "roc_auc", rocAuc);
        }
        return Collections.unmodifiableMap(m);
    }
}
