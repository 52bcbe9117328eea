package org.finetune4j.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the {@code compare} command shows: one row per strategy trained on the same data, as a table
 * and bar charts, and optionally each strategy's validation loss per epoch.
 *
 * @param title page title
 * @param modelId the base model all strategies started from; null if unknown
 * @param dataset one line describing the data; null if unknown
 * @param rows one per strategy, in the order to show them; strategy names must differ
 * @param evalCurves validation loss per epoch for some or all strategies; empty if none
 */
public record ComparisonReport(String title, String modelId, String dataset, List<Row> rows, List<EvalCurve> evalCurves) {

    public ComparisonReport {
        if (title == null || title.isBlank()) {
            throw new IllegalArgumentException("a comparison report needs a title");
        }
        if (rows == null || rows.isEmpty()) {
            throw new IllegalArgumentException("a comparison report needs at least one row (one per strategy)");
        }
        rows = List.copyOf(rows);
        evalCurves = evalCurves == null ? List.of() : List.copyOf(evalCurves);
        requireDistinct("row", rows.stream().map(Row::strategy).toList());
        requireDistinct("eval curve", evalCurves.stream().map(EvalCurve::strategy).toList());
    }

    /** Strategy names label bars and legend entries, so two with one name could not be told apart. */
    private static void requireDistinct(String what, List<String> names) {
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            if (!seen.add(n)) {
                throw new IllegalArgumentException("two " + what + "s are named \"" + n
                        + "\"; give each strategy a distinct name, e.g. \"lora-r8\" and \"lora-r16\"");
            }
        }
    }

    /**
     * One strategy's results.
     *
     * @param strategy the strategy's name: full, frozen, partial, lora, or a variant such as lora-r16
     * @param trainableParams parameters updated by training
     * @param trainablePercent trainable parameters as a percentage of all parameters, in [0, 100]
     * @param wallTimeSeconds training wall-clock time
     * @param trainSamplesPerSecond training throughput
     * @param peakRssMb peak resident memory of the process, in MB
     * @param savedSizeMb size on disk of what the run saves (model or adapter), in MB
     * @param validationAccuracy in [0, 1]
     * @param macroF1 unweighted mean of per-class F1, in [0, 1]
     * @param positiveClassF1 F1 of the positive class, binary tasks only; null otherwise
     * @param testMetrics metrics on a test set, in column order; empty if there was none
     */
    public record Row(
            String strategy,
            long trainableParams,
            double trainablePercent,
            double wallTimeSeconds,
            double trainSamplesPerSecond,
            double peakRssMb,
            double savedSizeMb,
            double validationAccuracy,
            double macroF1,
            Double positiveClassF1,
            Map<String, Double> testMetrics) {

        public Row {
            if (strategy == null || strategy.isBlank()) {
                throw new IllegalArgumentException("a comparison row needs a strategy name");
            }
            String where = "comparison row \"" + strategy + "\": ";
            require(trainableParams >= 0, where + "trainable params must be >= 0, got " + trainableParams);
            require(trainablePercent >= 0 && trainablePercent <= 100, where + "trainable % must be in [0, 100], got " + trainablePercent);
            require(wallTimeSeconds >= 0 && Double.isFinite(wallTimeSeconds), where + "wall time must be a non-negative number of seconds, got " + wallTimeSeconds);
            require(trainSamplesPerSecond >= 0 && Double.isFinite(trainSamplesPerSecond), where + "train samples/s must be >= 0, got " + trainSamplesPerSecond);
            require(peakRssMb >= 0 && Double.isFinite(peakRssMb), where + "peak RSS must be >= 0 MB, got " + peakRssMb);
            require(savedSizeMb >= 0 && Double.isFinite(savedSizeMb), where + "saved size must be >= 0 MB, got " + savedSizeMb);
            require(validationAccuracy >= 0 && validationAccuracy <= 1, where + "validation accuracy must be in [0, 1], got " + validationAccuracy);
            require(macroF1 >= 0 && macroF1 <= 1, where + "macro F1 must be in [0, 1], got " + macroF1);
            require(positiveClassF1 == null || (positiveClassF1 >= 0 && positiveClassF1 <= 1),
                    where + "positive-class F1 must be in [0, 1] (or null for a task that is not binary), got " + positiveClassF1);
            Map<String, Double> test = new LinkedHashMap<>();
            if (testMetrics != null) {
                testMetrics.forEach((k, v) -> {
                    require(k != null && v != null, where + "test metrics have a null key or value (" + k + " = " + v + ")");
                    test.put(k, v);
                });
            }
            testMetrics = Collections.unmodifiableMap(test);
        }

        public static Builder builder(String strategy) {
            return new Builder(strategy);
        }

        /** Named setters; every measurement must be set except positive-class F1 and test metrics. */
        public static final class Builder {
            private final String strategy;
            private Long trainableParams;
            private Double trainablePercent;
            private Double wallTimeSeconds;
            private Double trainSamplesPerSecond;
            private Double peakRssMb;
            private Double savedSizeMb;
            private Double validationAccuracy;
            private Double macroF1;
            private Double positiveClassF1;
            private Map<String, Double> testMetrics;

            private Builder(String strategy) {
                this.strategy = strategy;
            }

            public Builder trainableParams(long v) {
                trainableParams = v;
                return this;
            }

            public Builder trainablePercent(double v) {
                trainablePercent = v;
                return this;
            }

            public Builder wallTimeSeconds(double v) {
                wallTimeSeconds = v;
                return this;
            }

            public Builder trainSamplesPerSecond(double v) {
                trainSamplesPerSecond = v;
                return this;
            }

            public Builder peakRssMb(double v) {
                peakRssMb = v;
                return this;
            }

            public Builder savedSizeMb(double v) {
                savedSizeMb = v;
                return this;
            }

            public Builder validationAccuracy(double v) {
                validationAccuracy = v;
                return this;
            }

            public Builder macroF1(double v) {
                macroF1 = v;
                return this;
            }

            public Builder positiveClassF1(Double v) {
                positiveClassF1 = v;
                return this;
            }

            public Builder testMetrics(Map<String, Double> v) {
                testMetrics = v;
                return this;
            }

            public Row build() {
                String where = "comparison row \"" + strategy + "\": ";
                return new Row(strategy,
                        set(trainableParams, where + "trainable params"),
                        set(trainablePercent, where + "trainable %"),
                        set(wallTimeSeconds, where + "wall time"),
                        set(trainSamplesPerSecond, where + "train samples/s"),
                        set(peakRssMb, where + "peak RSS"),
                        set(savedSizeMb, where + "saved size"),
                        set(validationAccuracy, where + "validation accuracy"),
                        set(macroF1, where + "macro F1"),
                        positiveClassF1, testMetrics);
            }

            private static <T> T set(T v, String what) {
                if (v == null) {
                    throw new IllegalStateException(what + " was not set");
                }
                return v;
            }
        }
    }

    /**
     * One strategy's validation loss after each evaluation.
     *
     * @param strategy the strategy's name, as in its {@link Row}
     * @param epochs the epoch of each evaluation, ascending
     * @param evalLoss validation loss at each of those epochs
     */
    public record EvalCurve(String strategy, double[] epochs, double[] evalLoss) {
        public EvalCurve {
            if (strategy == null || strategy.isBlank()) {
                throw new IllegalArgumentException("an eval curve needs a strategy name");
            }
            if (epochs == null || evalLoss == null || epochs.length != evalLoss.length || epochs.length == 0) {
                throw new IllegalArgumentException("eval curve \"" + strategy + "\": epochs and evalLoss must be "
                        + "non-empty and of equal length, got " + (epochs == null ? "null" : epochs.length) + " and "
                        + (evalLoss == null ? "null" : evalLoss.length));
            }
            epochs = epochs.clone();
            evalLoss = evalLoss.clone();
        }

        /**
         * The curve of a run's {@code metrics.jsonl} records: every record with a numeric
         * {@code eval_loss} and {@code epoch}, in order.
         *
         * @throws IllegalArgumentException if no record has both
         */
        public static EvalCurve fromLogHistory(String strategy, List<Map<String, Object>> logHistory) {
            List<double[]> points = new ArrayList<>();
            for (Map<String, Object> r : logHistory) {
                Double epoch = LogHistory.number(r.get("epoch"));
                Double loss = LogHistory.number(r.get("eval_loss"));
                if (epoch != null && loss != null) {
                    points.add(new double[] {epoch, loss});
                }
            }
            if (points.isEmpty()) {
                throw new IllegalArgumentException("strategy \"" + strategy + "\": the log history has no record with "
                        + "both eval_loss and epoch; was the run trained with evaluation (eval_strategy epoch or steps)?");
            }
            return new EvalCurve(strategy, points.stream().mapToDouble(p -> p[0]).toArray(),
                    points.stream().mapToDouble(p -> p[1]).toArray());
        }

        @Override
        public double[] epochs() {
            return epochs.clone();
        }

        @Override
        public double[] evalLoss() {
            return evalLoss.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof EvalCurve c && strategy.equals(c.strategy) && Arrays.equals(epochs, c.epochs)
                    && Arrays.equals(evalLoss, c.evalLoss);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * strategy.hashCode() + Arrays.hashCode(epochs)) + Arrays.hashCode(evalLoss);
        }

        @Override
        public String toString() {
            return "EvalCurve[" + strategy + ", " + epochs.length + " evaluations]";
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
