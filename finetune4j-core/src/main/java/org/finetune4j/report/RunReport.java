package org.finetune4j.report;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.finetune4j.metrics.PrecisionRecallCurve;
import org.finetune4j.metrics.RocCurve;

/**
 * Everything the report of one training run shows. Plain data, so the trainer fills it from what it
 * already writes: {@code metrics.jsonl} (read with {@link JsonlReader}), {@code eval_results.json}, the
 * validation predictions. Built with {@link #builder(String)}; only the title is required, and a part
 * left out is a chart or section the report leaves out (and says why).
 *
 * @param title the run's name, shown as the page title
 * @param modelId the base model, e.g. {@code distilbert-base-uncased}; null if unknown
 * @param strategy how it was trained: full, frozen, partial, lora; null if unknown
 * @param dataset one line describing the data, e.g. "disaster tweets: 6,851 train / 762 validation"
 * @param logHistory the records of {@code metrics.jsonl} in order: training records carry {@code loss},
 *     {@code learning_rate}, {@code grad_norm}, {@code epoch}, {@code step}; evaluation records carry
 *     {@code eval_*} keys with {@code epoch} and {@code step} (transformers' {@code log_history})
 * @param finalMetrics {@code eval_results.json}: flat {@code eval_*} keys
 * @param labelNames label names in label-id order
 * @param confusionMatrix counts, rows = true label, columns = predicted label (scikit-learn's
 *     {@code confusion_matrix}); null if there was no validation set
 * @param classificationReport scikit-learn style {@code classification_report} text; null if none
 * @param roc the validation ROC curve with its AUC; binary tasks only, null otherwise
 * @param precisionRecall the validation precision-recall curve with its average precision; binary tasks
 *     only, null otherwise
 * @param misclassified the validation examples to show as errors (the report sorts them by score,
 *     most confident first, and shows all of them: the trainer picks how many)
 * @param facts run facts shown as a table, in the given order: train time, samples/s, peak RSS, ...
 * @param trainingConfig the training config (training_args.json), shown collapsed; empty if none
 * @param testMetrics {@code test_results.json}: flat {@code test_*} keys; empty when the run had no test set
 * @param trained how long the run trained and which step's weights the final metrics describe; null if
 *     unknown (the header then reads the epochs and steps from the log)
 */
public record RunReport(
        String title,
        String modelId,
        String strategy,
        String dataset,
        List<Map<String, Object>> logHistory,
        Map<String, Double> finalMetrics,
        List<String> labelNames,
        int[][] confusionMatrix,
        String classificationReport,
        RocCurve roc,
        PrecisionRecallCurve precisionRecall,
        List<Misclassified> misclassified,
        Map<String, String> facts,
        Map<String, Object> trainingConfig,
        Map<String, Double> testMetrics,
        Trained trained) {

    /**
     * @param epochs the epochs trained (transformers' {@code epoch} at the last step), 3.0 for three full epochs
     * @param steps the optimizer steps trained
     * @param bestStep the step of the best checkpoint when the run ended with its weights
     *     (load_best_model_at_end), so the final metrics are that step's; null when they are the last step's
     */
    public record Trained(double epochs, long steps, Long bestStep) {
    }

    public RunReport {
        if (title == null || title.isBlank()) {
            throw new IllegalArgumentException("a run report needs a title (the run's name)");
        }
        logHistory = copyRecords(logHistory);
        finalMetrics = copyMap("finalMetrics", finalMetrics);
        testMetrics = copyMap("testMetrics", testMetrics);
        labelNames = labelNames == null ? List.of() : List.copyOf(labelNames);
        if (Set.copyOf(labelNames).size() != labelNames.size()) {
            throw new IllegalArgumentException("label names must be distinct (they name the confusion matrix's rows "
                    + "and columns), got " + labelNames);
        }
        misclassified = misclassified == null ? List.of() : List.copyOf(misclassified);
        facts = copyMap("facts", facts);
        trainingConfig = trainingConfig == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(trainingConfig));
        confusionMatrix = checkedCopy(confusionMatrix, labelNames);
        if ((roc != null || precisionRecall != null) && labelNames.size() != 2) {
            throw new IllegalArgumentException("ROC and precision-recall curves are for binary tasks, but the run has "
                    + labelNames.size() + " label names " + labelNames + "; leave the curves out for this task");
        }
    }

    /** A copy: the report's matrix cannot be changed through it. */
    @Override
    public int[][] confusionMatrix() {
        return confusionMatrix == null ? null : deepCopy(confusionMatrix);
    }

    /** Whether the task is binary (two labels), the case that has ROC and precision-recall curves. */
    public boolean binary() {
        return labelNames.size() == 2;
    }

    public static Builder builder(String title) {
        return new Builder(title);
    }

    /** Named setters for the record's parts; every one but the title is optional. */
    public static final class Builder {
        private final String title;
        private String modelId;
        private String strategy;
        private String dataset;
        private List<Map<String, Object>> logHistory;
        private Map<String, Double> finalMetrics;
        private List<String> labelNames;
        private int[][] confusionMatrix;
        private String classificationReport;
        private RocCurve roc;
        private PrecisionRecallCurve precisionRecall;
        private List<Misclassified> misclassified;
        private Map<String, String> facts;
        private Map<String, Object> trainingConfig;
        private Map<String, Double> testMetrics;
        private Trained trained;

        private Builder(String title) {
            this.title = title;
        }

        public Builder modelId(String v) {
            modelId = v;
            return this;
        }

        public Builder strategy(String v) {
            strategy = v;
            return this;
        }

        public Builder dataset(String v) {
            dataset = v;
            return this;
        }

        public Builder logHistory(List<Map<String, Object>> v) {
            logHistory = v;
            return this;
        }

        public Builder finalMetrics(Map<String, Double> v) {
            finalMetrics = v;
            return this;
        }

        public Builder labelNames(List<String> v) {
            labelNames = v;
            return this;
        }

        public Builder confusionMatrix(int[][] v) {
            confusionMatrix = v;
            return this;
        }

        public Builder classificationReport(String v) {
            classificationReport = v;
            return this;
        }

        public Builder roc(RocCurve v) {
            roc = v;
            return this;
        }

        public Builder precisionRecall(PrecisionRecallCurve v) {
            precisionRecall = v;
            return this;
        }

        public Builder misclassified(List<Misclassified> v) {
            misclassified = v;
            return this;
        }

        public Builder facts(Map<String, String> v) {
            facts = v;
            return this;
        }

        public Builder trainingConfig(Map<String, Object> v) {
            trainingConfig = v;
            return this;
        }

        public Builder testMetrics(Map<String, Double> v) {
            testMetrics = v;
            return this;
        }

        public Builder trained(Trained v) {
            trained = v;
            return this;
        }

        public RunReport build() {
            return new RunReport(title, modelId, strategy, dataset, logHistory, finalMetrics, labelNames, confusionMatrix,
                    classificationReport, roc, precisionRecall, misclassified, facts, trainingConfig, testMetrics, trained);
        }
    }

    /** JSON records may hold nulls (a JSON {@code null}), so no {@code Map.copyOf} here. */
    private static List<Map<String, Object>> copyRecords(List<Map<String, Object>> records) {
        if (records == null) {
            return List.of();
        }
        List<Map<String, Object>> out = new ArrayList<>(records.size());
        for (int i = 0; i < records.size(); i++) {
            Map<String, Object> r = records.get(i);
            if (r == null) {
                throw new IllegalArgumentException("logHistory record " + i + " is null");
            }
            out.add(Collections.unmodifiableMap(new LinkedHashMap<>(r)));
        }
        return Collections.unmodifiableList(out);
    }

    /** Keeps the caller's order (a table shows it), rejects null keys and values. */
    private static <V> Map<String, V> copyMap(String what, Map<String, V> map) {
        if (map == null) {
            return Map.of();
        }
        Map<String, V> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (k == null || v == null) {
                throw new IllegalArgumentException(what + " has a null key or value (" + k + " = " + v + ")");
            }
            out.put(k, v);
        });
        return Collections.unmodifiableMap(out);
    }

    private static int[][] checkedCopy(int[][] matrix, List<String> labels) {
        if (matrix == null) {
            return null;
        }
        int n = matrix.length;
        if (labels.size() != n) {
            throw new IllegalArgumentException("the confusion matrix is " + n + " x " + n + " but there are "
                    + labels.size() + " label names; give one name per label, in label-id order");
        }
        for (int i = 0; i < n; i++) {
            Objects.requireNonNull(matrix[i], "confusion matrix row " + i);
            if (matrix[i].length != n) {
                throw new IllegalArgumentException("confusion matrix row " + i + " (true label \"" + labels.get(i)
                        + "\") has " + matrix[i].length + " columns, expected " + n);
            }
            for (int j = 0; j < n; j++) {
                if (matrix[i][j] < 0) {
                    throw new IllegalArgumentException("confusion matrix count [" + i + "][" + j + "] is negative: "
                            + matrix[i][j]);
                }
            }
        }
        return deepCopy(matrix);
    }

    private static int[][] deepCopy(int[][] m) {
        int[][] c = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            c[i] = m[i].clone();
        }
        return c;
    }
}
