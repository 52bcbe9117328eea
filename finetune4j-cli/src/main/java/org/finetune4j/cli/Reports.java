package org.finetune4j.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.Map;
import org.finetune4j.api.RunResult;

/** Prints a run's outcome: the classification reports and the measured facts, or JSON in quiet mode. */
final class Reports {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper COMPACT = new ObjectMapper();

    private Reports() {
    }

    static void print(RunResult r, boolean quiet) {
        if (quiet) {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("output", r.outputDir().toString());
            all.putAll(r.validation());
            all.putAll(r.test());
            all.put("facts", r.facts());
            System.out.println(json(all));
            return;
        }
        System.out.println();
        if (r.validationReport() != null) {
            System.out.println("Validation (" + r.facts().get("validation_examples") + " examples)");
            System.out.println(r.validationReport().toText());
            if (r.validationReport().binary() != null) {
                System.out.println(r.validationReport().binary().toText(4));
            }
        }
        if (r.testReport() != null) {
            System.out.println("Test (" + r.facts().get("test_examples") + " examples)");
            System.out.println(r.testReport().toText());
        }
        if (r.validationReport() == null && !r.validation().isEmpty()) {
            System.out.println("Validation metrics: " + r.validation());
        }
        Map<String, Object> f = r.facts();
        System.out.printf("trained %s (%s) in %.1f s: %.1f samples/s, peak RSS %.0f MB, %s of %s parameters trained%n",
                f.get("model"), f.get("strategy"), (Double) f.get("train_runtime_s"), (Double) f.get("train_samples_per_second"),
                (Double) f.get("peak_rss_mb"), f.get("trainable_params"), f.get("total_params"));
        System.out.println("model, metrics.jsonl, eval_results.json and report.html in " + r.outputDir());
    }

    /** One line of JSON (for JSON Lines output). */
    static String compactJson(Object o) {
        try {
            return COMPACT.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
