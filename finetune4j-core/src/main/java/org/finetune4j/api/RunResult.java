package org.finetune4j.api;

import java.nio.file.Path;
import java.util.Map;
import org.finetune4j.metrics.ClassificationReport;

/**
 * What a training run produced.
 *
 * @param outputDir where the model (or adapter), metrics and report are
 * @param validation the final model's validation metrics (HF names, eval_ prefix), or empty
 * @param test the final model's test metrics (test_ prefix), or empty
 * @param validationReport the validation classification report (single-label), or null
 * @param testReport the test classification report (single-label), or null
 * @param facts measured numbers: wall time, samples/s, peak RSS, parameter counts
 */
public record RunResult(Path outputDir, Map<String, Double> validation, Map<String, Double> test,
        ClassificationReport validationReport, ClassificationReport testReport, Map<String, Object> facts) {
}
