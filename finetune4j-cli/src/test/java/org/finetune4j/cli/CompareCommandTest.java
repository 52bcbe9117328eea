package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compare on a tiny model: two strategies that train, each in its own JVM, and one that fails. */
class CompareCommandTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Path data;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        model = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 1, tmp.resolve("tiny-bert"));
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 40; i++) {
            rows.add(i % 2 == 0 ? "the storm flooded the town number " + i + ",disaster"
                    : "what a lovely sunny afternoon number " + i + ",calm");
        }
        data = tmp.resolve("tweets.csv");
        Files.write(data, rows);
    }

    @Test
    void eachStrategyRunsInItsOwnProcessAndAFailureIsReportedWithItsStderr() throws Exception {
        Path out = tmp.resolve("cmp");
        // --frozen-layers 5 is ignored by full and lora but exceeds the tiny model's 2 layers for partial.
        CliRun r = CliRun.of("compare", "--model", model.toString(), "--train", data.toString(), "--split", "0.75,0.25",
                "--strategies", "full,lora,partial", "--frozen-layers", "5", "--epochs", "1", "--batch-size", "8",
                "--lora-r", "4", "--max-length", "32", "--output", out.toString());
        assertEquals(1, r.exitCode(), "a failed strategy makes the command fail: " + r.err());
        assertTrue(r.err().contains("error: strategy partial failed (exit 2)"), r.err());
        assertTrue(r.err().contains("--frozen-layers 5 exceeds the model's 2 layers"), "the child's stderr tail: " + r.err());

        JsonNode j = new ObjectMapper().readTree(out.resolve("comparison.json").toFile());
        JsonNode rows = j.get("strategies");
        assertEquals(3, rows.size());
        Set<Long> pids = new HashSet<>();
        pids.add(ProcessHandle.current().pid());
        for (int i = 0; i < 2; i++) {
            JsonNode s = rows.get(i);
            assertEquals(List.of("full", "lora").get(i), s.get("strategy").asText());
            assertTrue(s.get("succeeded").asBoolean());
            assertTrue(pids.add(s.get("pid").asLong()), "each strategy ran in a process of its own: " + pids);
            assertTrue(s.get("peak_rss_mb").asDouble() > 50, "a JVM with PyTorch loaded: " + s.get("peak_rss_mb"));
            assertTrue(s.get("train_samples_per_second").asDouble() > 0);
            assertTrue(s.get("process_wall_s").asDouble() >= s.get("train_runtime_s").asDouble());
            double acc = s.get("validation_accuracy").asDouble();
            assertTrue(acc >= 0 && acc <= 1);
            assertTrue(s.get("validation_macro_f1").isNumber());
            assertTrue(s.get("validation_positive_class_f1").isNumber(), "a binary task has a positive-class F1");
            assertEquals(s.get("saved_mb").asDouble(), s.get("facts").get("saved_mb").asDouble());
        }
        JsonNode full = rows.get(0);
        JsonNode lora = rows.get(1);
        assertEquals(100.0, full.get("trainable_percent").asDouble(), 1e-9);
        assertTrue(lora.get("trainable_params").asLong() < full.get("trainable_params").asLong() / 10);
        assertTrue(lora.get("saved_mb").asDouble() < full.get("saved_mb").asDouble() / 10, "an adapter is far smaller");
        assertTrue(Files.isRegularFile(out.resolve("lora/adapter_model.safetensors")));
        assertTrue(Files.isRegularFile(out.resolve("full/model.safetensors")));

        JsonNode partial = rows.get(2);
        assertFalse(partial.get("succeeded").asBoolean());
        assertEquals(2, partial.get("exit_code").asInt());
        assertNotEquals(0, partial.get("pid").asLong());
        assertTrue(partial.get("error").asText().contains("exceeds the model's 2 layers"));

        String md = Files.readString(out.resolve("comparison.md"));
        assertTrue(md.contains("| strategy | trainable params | trainable % |"), md);
        assertTrue(md.contains("| partial | failed (exit 2) |"), md);
        assertTrue(md.contains("**partial failed**"), md);
        assertTrue(r.out().contains("| full | "), "the table is printed: " + r.out());
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("lora") && html.contains("full") && !html.contains(">partial<"), "the report shows the runs that succeeded");
        assertTrue(Files.isRegularFile(out.resolve("comparison_memory.png")));

        // Run again into the same directory: refused without --overwrite.
        CliRun again = CliRun.of("compare", "--model", model.toString(), "--train", data.toString(), "--strategies", "frozen",
                "--output", out.toString());
        assertEquals(2, again.exitCode());
        assertTrue(again.err().contains("is not empty"), again.err());
    }

    @Test
    void onlyTheOptionsGivenAreForwardedToTheChild() {
        CompareCommand c = new CompareCommand();
        picocli.CommandLine cl = new picocli.CommandLine(c);
        picocli.CommandLine.ParseResult p = cl.parseArgs("--output", "x", "--strategies", "full", "--train", "t.csv",
                "--epochs", "2", "--no-group-by-length", "--lora-target-modules", "query,value,key", "--text-column", "body",
                "--clean", "tweets");
        assertEquals(List.of("--train", "t.csv", "--epochs", "2", "--no-group-by-length", "--lora-target-modules",
                "query,value,key", "--text-column", "body", "--clean", "tweets"), CompareCommand.sharedArguments(p, c.spec));
    }
}
