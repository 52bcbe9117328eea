package org.finetune4j.train;

import java.util.List;
import java.util.Map;
import org.finetune4j.metrics.ClassificationMetrics;
import org.finetune4j.metrics.MultiLabelMetrics;

/** The evaluation metrics of a run: classification report numbers, flat, with the Trainer's key names. */
public final class StandardMetrics implements Trainer.MetricsFunction {
    private final List<String> labels;
    private final boolean multiLabel;
    private final Double threshold;

    public StandardMetrics(List<String> labels, boolean multiLabel, Double threshold) {
        this.labels = List.copyOf(labels);
        this.multiLabel = multiLabel;
        this.threshold = threshold;
    }

    @Override
    public Map<String, Double> compute(float[][] logits, Examples data, String prefix) {
        if (multiLabel) {
            return MultiLabelMetrics.compute(labels, data.goldSets(), Evaluation.sigmoid(logits)).flat(prefix, null);
        }
        return ClassificationMetrics.compute(labels, data.goldIds(), Evaluation.softmax(logits), threshold).flat(prefix, null);
    }
}
