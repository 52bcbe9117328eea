package org.finetune4j.tune;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The parameters a study searches, by name (TrainingArguments names where the concept is the same:
 * {@code learning_rate}, {@code num_train_epochs}, ...), in the order given.
 */
public record SearchSpace(Map<String, Distribution> params) {
    public SearchSpace {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
    }
}
