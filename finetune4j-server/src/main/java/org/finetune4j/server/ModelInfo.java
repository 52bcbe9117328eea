package org.finetune4j.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.CheckpointException;

/** What {@code GET /v1/model} answers: the model's labels and settings, and its saved evaluation metrics. */
final class ModelInfo {
    static final String EVAL_RESULTS = "eval_results.json";
    static final String TEST_RESULTS = "test_results.json";

    private ModelInfo() {
    }

    /**
     * @param modelDir the model (or, with an adapter, the base model) directory
     * @param adapterDir the LoRA adapter directory, or null
     */
    static Map<String, Object> describe(TextClassifier classifier, Path modelDir, Path adapterDir) {
        ModelConfig c = classifier.config();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("model", modelDir.toAbsolutePath().normalize().getFileName().toString());
        if (adapterDir != null) {
            info.put("adapter", adapterDir.toAbsolutePath().normalize().getFileName().toString());
        }
        info.put("architecture", c.architecture());
        info.put("model_type", c.encoder().modelType());
        info.put("labels", c.labels());
        info.put("problem_type", c.problemType().id());
        info.put("max_length", classifier.maxLength());
        info.put("decision_threshold", c.decisionThreshold()); // null: argmax
        // A training run writes its metrics beside what it saved: the adapter directory for LoRA.
        Path runDir = adapterDir != null ? adapterDir : modelDir;
        info.put("metrics", metrics(runDir.resolve(EVAL_RESULTS)));
        info.put("test_metrics", metrics(runDir.resolve(TEST_RESULTS)));
        return info;
    }

    /** The flat metrics of an eval_results.json, or null when the file is absent. */
    static JsonNode metrics(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonNode n = new ObjectMapper().readTree(file.toFile());
            if (n == null || !n.isObject()) {
                throw new CheckpointException(file + ": expected a JSON object of metrics; delete or fix the file");
            }
            return n;
        } catch (IOException e) {
            throw new CheckpointException(file + ": not readable as JSON (" + e.getMessage() + "); delete or fix the file");
        }
    }
}
