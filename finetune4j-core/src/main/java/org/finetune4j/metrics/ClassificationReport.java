package org.finetune4j.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The evaluation of a single-label classifier on one data set (see {@link ClassificationMetrics}).
 *
 * @param perClass one row per label, in id order
 * @param accuracy correct predictions / examples (for a single-label task also the micro average of
 *     precision, recall and F1)
 * @param macroAvg the unweighted mean over labels, absent labels included
 * @param weightedAvg the mean weighted by support
 * @param confusionMatrix rows true, columns predicted
 * @param binary the positive-class numbers of a binary task; null when there are more than two labels
 * @param rocAuc the one-vs-rest and one-vs-one ROC-AUC of a task with three or more labels; null for a
 *     binary task, and where scikit-learn raises: when a label never occurs in the gold labels, or the
 *     probabilities do not sum to 1 (see {@link MultiClassRocAuc})
 */
public record ClassificationReport(List<Scores> perClass, double accuracy, Scores macroAvg, Scores weightedAvg,
        ConfusionMatrix confusionMatrix, BinaryScores binary, MultiClassRocAuc rocAuc) {

    /** Digits after the decimal point in {@link #toText()}; scikit-learn's default is 2. */
    public static final int DEFAULT_DIGITS = 4;

    public ClassificationReport {
        perClass = List.copyOf(perClass);
        List<String> names = perClass.stream().map(Scores::name).toList();
        if (!names.equals(confusionMatrix.labels())) {
            throw new IllegalArgumentException("report rows " + names + " do not match the confusion matrix labels "
                    + confusionMatrix.labels());
        }
        if (binary != null && perClass.size() != 2) {
            throw new IllegalArgumentException("binary scores need exactly 2 labels, got " + names);
        }
        if (rocAuc != null && perClass.size() < 3) {
            throw new IllegalArgumentException("a multi-class ROC AUC needs at least 3 labels, got " + names
                    + "; a binary task's ROC AUC is in its binary scores");
        }
    }

    /** Label names in id order. */
    public List<String> labels() {
        return confusionMatrix.labels();
    }

    public boolean isBinary() {
        return binary != null;
    }

    /** The row of one label. */
    public Scores scores(String label) {
        int k = labels().indexOf(label);
        if (k < 0) {
            throw new IllegalArgumentException("no label \"" + label + "\" in " + labels());
        }
        return perClass.get(k);
    }

    /**
     * The headline F1, the one {@code eval_f1} holds: of the positive class for a binary task (what
     * HF's binary examples report, {@code f1_score(average="binary")}), the macro average otherwise.
     * Macro rather than micro because the micro F1 of a single-label task equals accuracy, which is
     * already reported, while the macro F1 shows how the rare classes fare.
     */
    public double f1() {
        return binary != null ? binary.f1() : macroAvg.f1();
    }

    /** Precision in the sense of {@link #f1()}: the positive class's, or the macro average. */
    public double precision() {
        return binary != null ? binary.precision() : macroAvg.precision();
    }

    /** Recall in the sense of {@link #f1()}: the positive class's, or the macro average. */
    public double recall() {
        return binary != null ? binary.recall() : macroAvg.recall();
    }

    /** scikit-learn's {@code classification_report(..., digits=4)}, character for character. */
    public String toText() {
        return toText(DEFAULT_DIGITS);
    }

    public String toText(int digits) {
        return ReportText.table(perClass, accuracy, confusionMatrix.total(), List.of(macroAvg, weightedAvg), digits);
    }

    /**
     * scikit-learn's {@code output_dict=True} layout: one object per label and per average with
     * precision, recall, f1-score and support, and "accuracy" as a number; plus "confusion_matrix"
     * ({labels, matrix}) and, for a binary task, "binary" ({@link BinaryScores}), for a multi-class task
     * "roc_auc" ({ovr_macro, ovr_weighted, ovo_macro}) when defined. Support is written as an integer
     * where scikit-learn writes a float.
     */
    public ObjectNode toJsonNode() {
        ObjectNode n = ReportText.JSON.createObjectNode();
        for (Scores s : perClass) {
            n.set(s.name(), ReportText.json(s));
        }
        n.put("accuracy", accuracy);
        n.set("macro avg", ReportText.json(macroAvg));
        n.set("weighted avg", ReportText.json(weightedAvg));
        ObjectNode cm = n.putObject("confusion_matrix");
        ArrayNode labels = cm.putArray("labels");
        labels().forEach(labels::add);
        ArrayNode rows = cm.putArray("matrix");
        for (int[] row : confusionMatrix.counts()) {
            ArrayNode r = rows.addArray();
            for (int v : row) {
                r.add(v);
            }
        }
        if (binary != null) {
            n.set("binary", binary.toJson());
        }
        if (rocAuc != null) {
            n.set("roc_auc", rocAuc.toJson());
        }
        return n;
    }

    public String toJson() {
        return ReportText.write(toJsonNode());
    }

    /** Reads what {@link #toJson()} wrote. */
    public static ClassificationReport fromJson(String json) {
        String where = "classification report JSON";
        ObjectNode n = ReportText.read(json, where);
        JsonNode cm = n.get("confusion_matrix");
        if (cm == null || !cm.path("labels").isArray() || !cm.path("matrix").isArray()) {
            throw new IllegalArgumentException(where + ": \"confusion_matrix\" must be an object with arrays"
                    + " \"labels\" and \"matrix\"");
        }
        List<String> labels = new ArrayList<>();
        cm.get("labels").forEach(l -> labels.add(l.asText()));
        int[][] counts = new int[cm.get("matrix").size()][];
        for (int t = 0; t < counts.length; t++) {
            JsonNode row = cm.get("matrix").get(t);
            counts[t] = new int[row.size()];
            for (int p = 0; p < row.size(); p++) {
                counts[t][p] = row.get(p).asInt();
            }
        }
        List<Scores> perClass = new ArrayList<>();
        for (String l : labels) {
            perClass.add(ReportText.scores(l, n.get(l), where));
        }
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!Checks.RESERVED.contains(key) && !labels.contains(key)) {
                throw new IllegalArgumentException(where + ": key \"" + key + "\" is neither a label of the confusion"
                        + " matrix " + labels + " nor a report key");
            }
        }
        return new ClassificationReport(perClass, ReportText.number(n, "accuracy", where),
                ReportText.scores("macro avg", n.get("macro avg"), where),
                ReportText.scores("weighted avg", n.get("weighted avg"), where), new ConfusionMatrix(labels, counts),
                n.hasNonNull("binary") ? BinaryScores.fromJson(n.get("binary"), where) : null,
                n.hasNonNull("roc_auc") ? MultiClassRocAuc.fromJson(n.get("roc_auc"), where) : null);
    }

    /**
     * The flat metrics of {@code eval_results.json}, named as the HF Trainer names them:
     * {@code prefix + "loss"} (when a loss is given) first, then accuracy; f1, precision and recall in
     * the sense of {@link #f1()}; macro_ and weighted_ f1, precision and recall; and for a binary task
     * specificity, false_positive_rate, roc_auc and average_precision (each left out when undefined); for
     * a task with three or more labels roc_auc_ovr_macro, {@code roc_auc_score(multi_class="ovr",
     * average="macro")}, left out when undefined (the weighted and one-vs-one areas are in
     * {@link #rocAuc()} and the JSON report).
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
        m.put(prefix + "accuracy", accuracy);
        m.put(prefix + "f1", f1());
        m.put(prefix + "precision", precision());
        m.put(prefix + "recall", recall());
        m.put(prefix + "macro_f1", macroAvg.f1());
        m.put(prefix + "macro_precision", macroAvg.precision());
        m.put(prefix + "macro_recall", macroAvg.recall());
        m.put(prefix + "weighted_f1", weightedAvg.f1());
        m.put(prefix + "weighted_precision", weightedAvg.precision());
        m.put(prefix + "weighted_recall", weightedAvg.recall());
        if (binary != null) {
            m.put(prefix + "specificity", binary.specificity());
            m.put(prefix + "false_positive_rate", binary.falsePositiveRate());
            if (binary.rocAuc() != null) {
                m.put(prefix + "roc_auc", binary.rocAuc());
            }
            if (binary.averagePrecision() != null) {
                m.put(prefix + "average_precision", binary.averagePrecision());
            }
        }
        if (rocAuc != null) {
            m.put(prefix + "roc_auc_ovr_macro", rocAuc.ovrMacro());
        }
        return Collections.unmodifiableMap(m);
    }
}
