package org.finetune4j.metrics;

import java.util.List;

/**
 * One row of a classification report: a label's precision, recall and F1 with its support (how many
 * gold examples carry it), or an average over labels, named as scikit-learn names the row
 * ("macro avg", "weighted avg", ...).
 */
public record Scores(String name, double precision, double recall, double f1, long support) {
    public Scores {
        if (name == null) {
            throw new IllegalArgumentException("a report row needs a name");
        }
        if (support < 0) {
            throw new IllegalArgumentException("support of \"" + name + "\" is negative: " + support);
        }
    }

    /**
     * Scores from counts. Every ratio whose denominator is 0 is 0.0 (scikit-learn's default
     * zero_division), and F1 = 2·tp / (actual + predicted), as {@code _fbeta} computes it since 1.3.
     *
     * @param tp examples that have the label and were given it
     * @param predicted examples that were given the label
     * @param actual examples that have the label (the support)
     */
    static Scores of(String name, long tp, long predicted, long actual) {
        return new Scores(name, ratio(tp, predicted), ratio(tp, actual), ratio(2 * tp, actual + predicted), actual);
    }

    /** The unweighted mean over rows (scikit-learn's average="macro"); the support is the total. */
    static Scores macro(String name, List<Scores> rows) {
        double p = 0;
        double r = 0;
        double f = 0;
        long s = 0;
        for (Scores row : rows) {
            p += row.precision;
            r += row.recall;
            f += row.f1;
            s += row.support;
        }
        int n = rows.size();
        return new Scores(name, p / n, r / n, f / n, s);
    }

    /**
     * The support-weighted mean (average="weighted"); 0.0 when no row has support, which is what
     * scikit-learn returns then under zero_division="warn".
     */
    static Scores weighted(String name, List<Scores> rows) {
        double p = 0;
        double r = 0;
        double f = 0;
        long s = 0;
        for (Scores row : rows) {
            p += row.precision * row.support;
            r += row.recall * row.support;
            f += row.f1 * row.support;
            s += row.support;
        }
        return s == 0 ? new Scores(name, 0, 0, 0, 0) : new Scores(name, p / s, r / s, f / s, s);
    }

    static double ratio(long numerator, long denominator) {
        return denominator == 0 ? 0.0 : (double) numerator / denominator;
    }
}
