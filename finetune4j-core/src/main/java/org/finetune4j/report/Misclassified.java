package org.finetune4j.report;

import java.util.Objects;

/**
 * A validation example the model got wrong.
 *
 * @param text the example's text, as it was given to the model (the report escapes it)
 * @param goldLabel the true label's name
 * @param predictedLabel the predicted label's name
 * @param score the model's probability for the predicted label, in [0, 1]
 */
public record Misclassified(String text, String goldLabel, String predictedLabel, double score) {
    public Misclassified {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(goldLabel, "goldLabel");
        Objects.requireNonNull(predictedLabel, "predictedLabel");
        if (!(score >= 0 && score <= 1)) {
            throw new IllegalArgumentException("misclassified example score must be a probability in [0, 1], got " + score);
        }
    }
}
