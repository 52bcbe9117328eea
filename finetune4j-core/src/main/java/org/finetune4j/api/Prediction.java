package org.finetune4j.api;

import java.util.List;
import java.util.Map;

/**
 * One text's prediction.
 *
 * @param label the predicted label (single-label), or the first of {@code labels} (multi-label)
 * @param score the probability of {@code label}
 * @param labels every predicted label: one for single-label, those above the threshold for multi-label
 * @param scores every class's probability, in label-id order
 */
public record Prediction(String label, double score, List<String> labels, Map<String, Double> scores) {
    public Prediction {
        labels = List.copyOf(labels);
        scores = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(scores));
    }
}
