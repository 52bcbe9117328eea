package org.finetune4j.report;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads chart series out of a run's log records ({@code metrics.jsonl}, transformers'
 * {@code log_history}). Training records are those with a {@code loss}; evaluation records those
 * with any {@code eval_*} number. Every chart of one run shares one x axis: the step when every
 * record has one, else the epoch, else the record's position in the log.
 */
final class LogHistory {
    /**
     * Evaluation keys that are not quality metrics in [0, 1]: the loss has its own chart, the rest are
     * timings the Trainer logs with every evaluation, and a tuned decision threshold is a setting.
     */
    private static final Set<String> NOT_METRICS = Set.of("eval_loss", "eval_runtime", "eval_samples_per_second",
            "eval_steps_per_second", "eval_model_preparation_time", "eval_threshold");

    /** Points of one key over the shared axis; values that are not finite (a diverged loss) are skipped and counted. */
    record Series(String key, double[] x, double[] y, int nonFinite) {
        boolean isEmpty() {
            return x.length == 0;
        }
    }

    private final List<Map<String, Object>> training = new ArrayList<>();
    private final List<Map<String, Object>> evaluations = new ArrayList<>();
    /** Position in the log, by identity: two records may be equal maps. */
    private final Map<Map<String, Object>, Integer> position = new IdentityHashMap<>();
    private final String axis;

    LogHistory(List<Map<String, Object>> records) {
        for (Map<String, Object> r : records) {
            position.put(r, position.size() + 1);
            if (r.containsKey("loss") && number(r.get("loss")) != null) {
                training.add(r);
            }
            if (r.keySet().stream().anyMatch(k -> k.startsWith("eval_") && number(r.get(k)) != null)) {
                evaluations.add(r);
            }
        }
        if (records.stream().allMatch(r -> number(r.get("step")) != null)) {
            axis = "step";
        } else if (records.stream().allMatch(r -> number(r.get("epoch")) != null)) {
            axis = "epoch";
        } else {
            axis = "log record";
        }
    }

    /** JSON numbers arrive as Integer, Long, Double or BigDecimal; anything else is not a number. */
    static Double number(Object v) {
        return v instanceof Number n ? n.doubleValue() : null;
    }

    String axis() {
        return axis;
    }

    List<Map<String, Object>> training() {
        return training;
    }

    List<Map<String, Object>> evaluations() {
        return evaluations;
    }

    double x(Map<String, Object> record) {
        return switch (axis) {
            case "step", "epoch" -> number(record.get(axis));
            default -> position.get(record);
        };
    }

    Series trainingSeries(String key) {
        return series(training, key);
    }

    Series evalSeries(String key) {
        return series(evaluations, key);
    }

    private Series series(List<Map<String, Object>> records, String key) {
        List<double[]> points = new ArrayList<>();
        int nonFinite = 0;
        for (Map<String, Object> r : records) {
            Double y = number(r.get(key));
            if (y == null) {
                continue;
            }
            if (!Double.isFinite(y)) {
                nonFinite++;
                continue;
            }
            points.add(new double[] {x(r), y});
        }
        return new Series(key, points.stream().mapToDouble(p -> p[0]).toArray(),
                points.stream().mapToDouble(p -> p[1]).toArray(), nonFinite);
    }

    /** Every numeric {@code eval_*} key, in order of first appearance. */
    List<String> evalKeys() {
        Set<String> keys = new LinkedHashSet<>();
        for (Map<String, Object> r : evaluations) {
            r.forEach((k, v) -> {
                if (k.startsWith("eval_") && number(v) != null) {
                    keys.add(k);
                }
            });
        }
        return new ArrayList<>(keys);
    }

    /** The evaluation keys worth a line on the metrics chart: quality metrics whose every value is in [0, 1]. */
    List<String> fractionMetrics() {
        List<String> out = new ArrayList<>();
        for (String k : evalKeys()) {
            if (NOT_METRICS.contains(k)) {
                continue;
            }
            Series s = evalSeries(k);
            boolean fraction = !s.isEmpty();
            for (double v : s.y()) {
                fraction &= v >= 0 && v <= 1;
            }
            if (fraction) {
                out.add(k);
            }
        }
        return out;
    }

    /** Evaluation keys for the table of evaluations: the loss and the metrics, not the timings. */
    List<String> tableKeys() {
        return evalKeys().stream()
                .filter(k -> k.equals("eval_loss") || k.equals("eval_threshold") || !NOT_METRICS.contains(k))
                .toList();
    }

    /** The last training loss logged at or before {@code x}, or null if none was. */
    Double trainingLossAt(double x) {
        Double loss = null;
        for (Map<String, Object> r : training) {
            if (x(r) <= x) {
                loss = number(r.get("loss"));
            }
        }
        return loss;
    }
}
