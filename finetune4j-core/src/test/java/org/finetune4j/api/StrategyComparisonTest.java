package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The comparison's table, JSON and report from outcomes, without running any process. */
class StrategyComparisonTest {
    private static StrategyComparison.Outcome ok(String strategy, long pid, long trainable, double percent, double savedMb) {
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("trainable_params", trainable);
        facts.put("trainable_percent", percent);
        facts.put("train_runtime_s", 100.0);
        facts.put("train_samples_per_second", 61.25);
        facts.put("saved_mb", savedMb);
        Map<String, Double> val = Map.of("eval_accuracy", 0.8125, "eval_macro_f1", 0.8, "eval_f1", 0.75, "eval_specificity", 0.9);
        return new StrategyComparison.Outcome(strategy, pid, 0, Path.of("out", strategy), 110.5, 1234.4, facts, val,
                Map.of("test_accuracy", 0.8, "test_macro_f1", 0.79, "test_f1", 0.7), null);
    }

    @Test
    void theTableHasOneRowPerStrategyAndAFailedOneSaysSo() throws Exception {
        StrategyComparison.Outcome failed = new StrategyComparison.Outcome("partial", 303, 2, Path.of("out", "partial"), 3.0,
                80, Map.of(), Map.of(), Map.of(), "error: --frozen-layers 9 exceeds the model's 6 layers");
        StrategyComparison.Result r = new StrategyComparison.Result(Path.of("out"), "all-MiniLM-L6-v2", "tweets.csv",
                List.of(ok("full", 101, 22_714_370, 100.0, 90.9), ok("lora", 202, 148_226, 0.6484, 0.6), failed));
        String md = r.toMarkdown();
        assertTrue(md.contains("| full | 22,714,370 | 100.0 | 100.0 | 110.5 | 61.3 | 1234 | 90.9 | 0.8125 | 0.8000 | 0.7500 | 0.8000"
                + " | 0.7900 | 0.7000 | 101 |"), md);
        assertTrue(md.contains("| lora | 148,226 | 0.648 |"), md);
        assertTrue(md.contains("| partial | failed (exit 2) |"), md);
        assertTrue(md.contains("exceeds the model's 6 layers"), md);

        JsonNode j = new ObjectMapper().readTree(r.toJson());
        assertEquals(3, j.get("strategies").size());
        assertEquals(0.75, j.get("strategies").get(0).get("validation_positive_class_f1").asDouble());
        assertEquals(202, j.get("strategies").get(1).get("pid").asLong());
        assertEquals("error: --frozen-layers 9 exceeds the model's 6 layers", j.get("strategies").get(2).get("error").asText());

        assertEquals(List.of("full", "lora"), r.toReport().rows().stream().map(x -> x.strategy()).toList(),
                "the HTML report charts the strategies that ran");
        assertEquals(List.of(failed), r.failures());
    }

    @Test
    void positiveClassF1OnlyForBinaryTasks() {
        StrategyComparison.Outcome multi = new StrategyComparison.Outcome("full", 1, 0, Path.of("x"), 1, 1,
                Map.of("trainable_params", 1L), Map.of("eval_accuracy", 0.5, "eval_macro_f1", 0.4, "eval_f1", 0.4), Map.of(), null);
        assertNull(multi.positiveClassF1());
    }

    @Test
    void strategiesAreChecked() {
        StrategyComparison.ChildCommand none = (s, d) -> List.of();
        assertThrows(IllegalArgumentException.class,
                () -> new StrategyComparison.Spec(List.of("full", "ful"), Path.of("o"), false, "Main", none, null, null));
        assertThrows(IllegalArgumentException.class,
                () -> new StrategyComparison.Spec(List.of("lora", "lora"), Path.of("o"), false, "Main", none, null, null));
        assertThrows(IllegalArgumentException.class,
                () -> new StrategyComparison.Spec(List.of(), Path.of("o"), false, "Main", none, null, null));
    }
}
