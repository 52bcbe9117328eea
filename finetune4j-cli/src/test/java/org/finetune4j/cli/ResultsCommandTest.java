package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * results on a run directory that the train command itself wrote (a tiny random BERT, LoRA, with
 * validation and test splits), so the page is checked against the files train writes today.
 */
class ResultsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path run;

    @BeforeAll
    static void trainATinyRun() throws Exception {
        Path base = dir.resolve("base");
        TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 5, base);
        Path data = TinyReviews.write(dir.resolve("reviews").resolve("train.csv"));
        run = dir.resolve("run");
        CliRun train = CliRun.of("train", "--model", base.toString(), "--train", data.toString(), "--split", "0.5,0.25,0.25",
                "--strategy", "lora", "--epochs", "1", "--batch-size", "8", "--learning-rate", "2e-3", "--max-length", "16",
                "--seed", "3", "--output", run.toString(), "--quiet");
        assertEquals(0, train.exitCode(), train.err());
    }

    @Test
    void theRunBecomesARowWithTheMetricsItsFilesHold() throws Exception {
        Path commands = dir.resolve("commands.sh");
        Files.writeString(commands, "./finetune4j train --strategy lora --output run\n\n./finetune4j bench --output b\n");
        Path page = dir.resolve("RESULTS.md");

        CliRun r = CliRun.of("results", "--runs", run.toString(), "--commands", commands.toString(), "--commit", "abc1234",
                "--date", "2026-12-05", "--output", page.toString());

        assertEquals(0, r.exitCode(), r.err());
        String md = Files.readString(page);
        JsonNode eval = JSON.readTree(run.resolve("eval_results.json").toFile());
        JsonNode test = JSON.readTree(run.resolve("test_results.json").toFile());
        JsonNode results = JSON.readTree(run.resolve("run_config.json").toFile()).path("results");
        String row = String.format(Locale.ROOT, "| reviews/train.csv | %s | lora | 1 ep, lr 0.002, batch 8, r 16, α 32, query,value"
                + " | 24 / 12 / 12 | %.4f | %.4f | %.4f | %.4f | %.4f | %.4f | %,.1f | %,.0f |\n", dir.resolve("base"),
                eval.path("eval_accuracy").asDouble(), eval.path("eval_f1").asDouble(), eval.path("eval_macro_f1").asDouble(),
                test.path("test_accuracy").asDouble(), test.path("test_f1").asDouble(), test.path("test_macro_f1").asDouble(),
                results.path("train_samples_per_second").asDouble(), results.path("peak_rss_mb").asDouble());
        assertTrue(md.contains(row), "expected the row\n" + row + "in\n" + md);
        assertTrue(md.contains("- commit: `abc1234`\n"), md);
        assertTrue(md.contains("- date: 2026-12-05\n"), md);
        assertTrue(md.contains("```bash\n./finetune4j train --strategy lora --output run\n./finetune4j bench --output b\n```"), md);
        assertTrue(!md.contains("## Throughput"), "no --bench, no bench tables");
    }

    @Test
    void anExistingPageIsReplacedOnlyWithOverwrite() throws Exception {
        Path page = dir.resolve("existing.md");
        Files.writeString(page, "typed in\n");

        CliRun refused = CliRun.of("results", "--runs", run.toString(), "--commit", "abc1234", "--output", page.toString());
        assertEquals(2, refused.exitCode());
        assertTrue(refused.err().contains("--overwrite"), refused.err());
        assertEquals("typed in\n", Files.readString(page));

        CliRun replaced = CliRun.of("results", "--runs", run.toString(), "--commit", "abc1234", "--output", page.toString(),
                "--overwrite");
        assertEquals(0, replaced.exitCode(), replaced.err());
        assertTrue(Files.readString(page).startsWith("# Results\n"));
        assertFalse(Files.readString(page).contains("typed in"), "nothing before the marker is kept");
    }

    /** Sections measured by their own scripts (after the marker) survive a regeneration; the generated part is new. */
    @Test
    void sectionsAfterTheMarkerAreKept() throws Exception {
        Path page = dir.resolve("kept.md");
        String kept = ResultsCommand.KEPT_MARKER + "\n\n## Kill and resume\n\n20 of 20 bit-identical (commit 1234567).\n";
        Files.writeString(page, "# Results\n\nold generated part\n\n" + kept);

        CliRun r = CliRun.of("results", "--runs", run.toString(), "--commit", "abc1234", "--output", page.toString(),
                "--overwrite");
        assertEquals(0, r.exitCode(), r.err());
        String now = Files.readString(page);
        assertTrue(now.startsWith("# Results\n") && now.contains("abc1234"), now);
        assertFalse(now.contains("old generated part"), now);
        assertTrue(now.endsWith(kept), now);
    }

    @Test
    void aDirectoryThatIsNotARunIsAUserError() {
        CliRun r = CliRun.of("results", "--runs", dir.toString(), "--commit", "abc1234", "--output", dir.resolve("x.md").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains(dir.resolve("run_config.json") + ": no such file"), r.err());
        assertTrue(!Files.exists(dir.resolve("x.md")));
    }

    @Test
    void nothingToTabulateIsAUserError() {
        CliRun r = CliRun.of("results", "--output", dir.resolve("y.md").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--runs DIR... and/or --bench FILE"), r.err());
    }

    @Test
    void helpNamesEveryOption() {
        CliRun r = CliRun.of("results", "--help");
        assertEquals(0, r.exitCode());
        for (String o : List.of("--runs", "--bench", "--commands", "--commit", "--date", "--output", "--overwrite")) {
            assertTrue(r.out().contains(o), o + " in\n" + r.out());
        }
    }
}
