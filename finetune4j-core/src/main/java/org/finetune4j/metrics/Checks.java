package org.finetune4j.metrics;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Input validation shared by the metrics; every message says what was wrong, where, and what to do. */
final class Checks {
    /** Keys of the JSON reports other than label names; a label may not take one of them. */
    static final Set<String> RESERVED = Set.of("accuracy", "micro avg", "macro avg", "weighted avg", "samples avg",
            "confusion_matrix", "binary", "subset_accuracy", "hamming_loss", "threshold", "roc_auc");

    private Checks() {
    }

    static void labels(List<String> labels, int min, String task) {
        if (labels == null || labels.size() < min) {
            throw new IllegalArgumentException("a " + task + " needs at least " + min + " label"
                    + (min == 1 ? "" : "s") + ", got " + labels);
        }
        Set<String> seen = new HashSet<>();
        for (int k = 0; k < labels.size(); k++) {
            String l = labels.get(k);
            if (l == null) {
                throw new IllegalArgumentException("label name " + k + " is null; give every label id a name");
            }
            if (!seen.add(l)) {
                throw new IllegalArgumentException("label name \"" + l + "\" appears twice in " + labels
                        + "; label names must be unique");
            }
            if (RESERVED.contains(l)) {
                throw new IllegalArgumentException("label name \"" + l + "\" (id " + k + ") is a key of the"
                        + " classification report itself; rename the label (reserved: " + new java.util.TreeSet<>(RESERVED)
                        + ")");
            }
        }
    }

    /** probs is n × c, every value finite. */
    static void probabilities(float[][] probs, int n, int c) {
        if (probs == null) {
            throw new IllegalArgumentException("probabilities are null");
        }
        if (probs.length != n) {
            throw new IllegalArgumentException("there are " + probs.length + " rows of probabilities for " + n
                    + " gold labels; pass one row per example, in the same order");
        }
        for (int i = 0; i < n; i++) {
            if (probs[i] == null || probs[i].length != c) {
                throw new IllegalArgumentException("probabilities row " + i + " has "
                        + (probs[i] == null ? "no values" : probs[i].length + " values") + " but there are " + c
                        + " labels; a row holds one probability per label, in id order");
            }
            for (int k = 0; k < c; k++) {
                if (!Float.isFinite(probs[i][k])) {
                    throw new IllegalArgumentException("probability at row " + i + ", label " + k + " is "
                            + probs[i][k] + "; the model produced non-finite outputs (did training diverge?)");
                }
            }
        }
    }

    static void goldIds(int[] gold, List<String> labels) {
        if (gold == null || gold.length == 0) {
            throw new IllegalArgumentException("no examples to evaluate: the gold labels are empty");
        }
        for (int i = 0; i < gold.length; i++) {
            if (gold[i] < 0 || gold[i] >= labels.size()) {
                throw new IllegalArgumentException("gold label id " + gold[i] + " at row " + i + " is out of range:"
                        + " there are " + labels.size() + " labels " + labels
                        + "; check that the data's labels match the model's id2label");
            }
        }
    }

    /** Gold labels of a binary curve: 0 (negative) or 1 (positive), one per score. */
    static void binaryGold(int[] gold, int n) {
        if (gold == null || gold.length == 0) {
            throw new IllegalArgumentException("no examples: the gold labels are empty");
        }
        if (gold.length != n) {
            throw new IllegalArgumentException("there are " + gold.length + " gold labels for " + n
                    + " scores; pass one score per example, in the same order");
        }
        for (int i = 0; i < gold.length; i++) {
            if (gold[i] != 0 && gold[i] != 1) {
                throw new IllegalArgumentException("gold label at row " + i + " is " + gold[i]
                        + "; binary curves take 0 (negative) or 1 (positive)");
            }
        }
    }

    static void scores(double[] scores, boolean probabilities) {
        if (scores == null) {
            throw new IllegalArgumentException("scores are null");
        }
        for (int i = 0; i < scores.length; i++) {
            if (!Double.isFinite(scores[i])) {
                throw new IllegalArgumentException("score at row " + i + " is " + scores[i]
                        + "; the model produced non-finite outputs (did training diverge?)");
            }
            if (probabilities && (scores[i] < 0 || scores[i] > 1)) {
                throw new IllegalArgumentException("score at row " + i + " is " + scores[i]
                        + ", not a probability in [0, 1]; pass P(positive), not a logit");
            }
        }
    }

    static void threshold(double t) {
        if (!(t >= 0 && t <= 1)) {
            throw new IllegalArgumentException("decision threshold " + t + " is not a probability in [0, 1]");
        }
    }

    /** The two coordinates of a curve's points: given, as many of each, at least 2 points, all in [0, 1]. */
    static void curvePoints(String curve, String xName, double[] x, String yName, double[] y) {
        if (x == null || y == null) {
            throw new IllegalArgumentException(curve + ": " + xName + " and " + yName + " must both be given");
        }
        if (x.length != y.length) {
            throw new IllegalArgumentException(curve + ": " + xName + " has " + x.length + " points but " + yName
                    + " has " + y.length + "; they must be the same thresholds");
        }
        if (x.length < 2) {
            throw new IllegalArgumentException(curve + ": needs at least 2 points, got " + x.length);
        }
        for (int i = 0; i < x.length; i++) {
            if (!(x[i] >= 0 && x[i] <= 1 && y[i] >= 0 && y[i] <= 1)) {
                throw new IllegalArgumentException(curve + ": point " + i + " (" + xName + "=" + x[i] + ", " + yName
                        + "=" + y[i] + ") is outside [0, 1]");
            }
        }
    }

    static void probability(String what, double v) {
        if (!(v >= 0 && v <= 1)) {
            throw new IllegalArgumentException(what + " must be in [0, 1], got " + v);
        }
    }
}
