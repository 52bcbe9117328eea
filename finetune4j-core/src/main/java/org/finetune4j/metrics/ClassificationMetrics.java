package org.finetune4j.metrics;

import java.util.ArrayList;
import java.util.List;

/**
 * Metrics of a single-label classifier (problem_type single_label_classification) from its predicted
 * probabilities, with scikit-learn's definitions (see the package documentation for the conventions).
 *
 * <pre>
 * ClassificationReport r = ClassificationMetrics.compute(config.labels(), gold, probs, config.decisionThreshold());
 * System.out.print(r.toText());
 * Map&lt;String, Double&gt; m = r.flat("eval_", loss);   // eval_loss, eval_accuracy, eval_f1, ...
 * </pre>
 */
public final class ClassificationMetrics {
    /** The positive class of a binary task unless a caller says otherwise: label id 1. */
    public static final int DEFAULT_POSITIVE_CLASS = 1;

    private ClassificationMetrics() {
    }

    /**
     * @param labels label names in id order (id2label)
     * @param gold the gold label id of each example
     * @param probs (N, C) predicted class probabilities, one row per example
     * @param threshold for a binary task, predict label 1 when P(label 1) &gt; threshold; null for argmax
     */
    public static ClassificationReport compute(List<String> labels, int[] gold, float[][] probs, Double threshold) {
        return compute(labels, gold, probs, threshold, DEFAULT_POSITIVE_CLASS);
    }

    /**
     * As {@link #compute(List, int[], float[][], Double)}, naming the positive class of a binary task
     * (the class whose precision, recall, F1, specificity and ROC-AUC the binary scores report). The
     * threshold still applies to P(label 1), as the model config stores it.
     */
    public static ClassificationReport compute(List<String> labels, int[] gold, float[][] probs, Double threshold,
            int positiveClass) {
        Checks.labels(labels, 2, "single-label classifier");
        Checks.goldIds(gold, labels);
        Checks.probabilities(probs, gold.length, labels.size());
        boolean binary = labels.size() == 2;
        if (positiveClass != DEFAULT_POSITIVE_CLASS && !binary) {
            throw new IllegalArgumentException("a positive class applies to binary tasks only; this one has "
                    + labels.size() + " labels " + labels);
        }
        if (binary && positiveClass != 0 && positiveClass != 1) {
            throw new IllegalArgumentException("positive class " + positiveClass + " is not a label id of " + labels);
        }
        int[] predicted = predictions(probs, threshold);
        ConfusionMatrix cm = ConfusionMatrix.of(labels, gold, predicted);

        List<Scores> perClass = new ArrayList<>();
        for (int k = 0; k < labels.size(); k++) {
            perClass.add(Scores.of(labels.get(k), cm.count(k, k), cm.predicted(k), cm.actual(k)));
        }
        double accuracy = (double) cm.correct() / gold.length;

        BinaryScores b = null;
        if (binary) {
            int[] isPositive = new int[gold.length];
            double[] scores = new double[gold.length];
            for (int i = 0; i < gold.length; i++) {
                isPositive[i] = gold[i] == positiveClass ? 1 : 0;
                scores[i] = probs[i][positiveClass];
            }
            b = BinaryScores.of(cm, positiveClass, threshold, isPositive, scores);
        }
        // Left out where roc_auc_score raises (a label absent from the gold labels, rows not summing to 1).
        MultiClassRocAuc auc = !binary && MultiClassRocAuc.isDefined(gold, probs) ? MultiClassRocAuc.of(gold, probs) : null;
        return new ClassificationReport(perClass, accuracy, Scores.macro("macro avg", perClass),
                Scores.weighted("weighted avg", perClass), cm, b, auc);
    }

    /**
     * Predicted label ids: the most probable label (the first on ties, as {@code numpy.argmax}), or,
     * with a threshold (binary tasks only), 1 when P(label 1) &gt; threshold and 0 otherwise. With
     * softmax probabilities the threshold 0.5 gives the argmax.
     */
    public static int[] predictions(float[][] probs, Double threshold) {
        if (probs == null || probs.length == 0 || probs[0] == null) {
            throw new IllegalArgumentException("no probabilities to predict from");
        }
        int c = probs[0].length;
        Checks.probabilities(probs, probs.length, c);
        int[] pred = new int[probs.length];
        if (threshold != null) {
            if (c != 2) {
                throw new IllegalArgumentException("a decision threshold applies to binary tasks only; the"
                        + " probabilities have " + c + " columns. Leave the threshold null to use argmax");
            }
            Checks.threshold(threshold);
            for (int i = 0; i < probs.length; i++) {
                pred[i] = probs[i][1] > threshold ? 1 : 0;
            }
            return pred;
        }
        for (int i = 0; i < probs.length; i++) {
            int best = 0;
            for (int k = 1; k < c; k++) {
                if (probs[i][k] > probs[i][best]) {
                    best = k;
                }
            }
            pred[i] = best;
        }
        return pred;
    }
}
