package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a new user meets on the rough edges: a file too small to split, a failed run, a resume, stats without labels. */
class CliBehaviourTest {
    @TempDir
    static Path dir;
    static Path base;
    static Path reviews;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 5, dir.resolve("base"));
        reviews = TinyReviews.write(dir.resolve("reviews.csv"));
    }

    private static CliRun train(Path data, Path out, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("train", "--model", base.toString(), "--train", data.toString(),
                "--epochs", "1", "--batch-size", "8", "--max-length", "16", "--seed", "3", "--output", out.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            int at = args.indexOf(extra[i]);
            if (at >= 0) {
                args.set(at + 1, extra[i + 1]); // another value for an option already given
            } else {
                args.addAll(List.of(extra[i], extra[i + 1]));
            }
        }
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void aOneRowFileSaysItIsTooSmallToSplit() throws Exception {
        Path one = Files.write(dir.resolve("one.csv"), List.of("text,label", "the movie was good,pos"));
        CliRun r = train(one, dir.resolve("one-run"));
        assertEquals(2, r.exitCode(), r.err());
        // The default split 0.9,0.1 gives validation ⌈0.1⌉ = 1 row and training the rest.
        assertTrue(r.err().contains("1 row is too few for the split 0.9,0.1: it leaves the training set empty"
                + " (training 0, validation 1)"), r.err());
        assertTrue(r.err().contains("add rows, or give the validation data as a file of its own with --validation"), r.err());
        assertFalse(r.err().contains("no example has a label"), r.err());
    }

    @Test
    void aFailedRunLeavesNoEmptyOutputDirectory() throws Exception {
        Path one = Files.write(dir.resolve("tiny.csv"), List.of("text,label", "the movie was good,pos"));
        Path out = dir.resolve("runs").resolve("never");
        CliRun r = train(one, out);
        assertEquals(2, r.exitCode(), r.err());
        assertFalse(Files.exists(out), "the failed run's --output is not left behind");
        assertFalse(Files.exists(out.getParent()), "nor the directory made for it");
        // A directory that existed before the run stays, even when the run fails.
        Path existing = Files.createDirectories(dir.resolve("existing"));
        assertEquals(2, train(one, existing).exitCode());
        assertTrue(Files.isDirectory(existing));
    }

    @Test
    void aResumedRunDoesNotWarnAboutNewlyInitializedWeights() {
        Path run = dir.resolve("resumed");
        CliRun first = train(reviews, run);
        assertEquals(0, first.exitCode(), first.err());
        assertTrue(first.err().contains("newly initialized"), "the fresh head is announced once: " + first.err());
        CliRun more = train(reviews, run, "--epochs", "2", "--resume-from-checkpoint", "latest");
        assertEquals(0, more.exitCode(), more.err());
        assertFalse(more.err().contains("newly initialized"), "the checkpoint restores the head: " + more.err());
        assertTrue(more.err().contains("resuming from"), more.err());
    }

    @Test
    void statsDescribesAFileWithoutLabels() throws Exception {
        Path texts = Files.write(dir.resolve("texts.csv"), List.of("id,text", "1,the movie was good", "2,the movie was bad",
                "3,the movie was good"));
        CliRun s = CliRun.of("stats", "--data", texts.toString(), "--model", base.toString(), "--json");
        assertEquals(0, s.exitCode(), s.err());
        assertTrue(s.err().contains("no label column 'label' (the columns are id, text): describing the texts without labels"),
                s.err());
        JsonNode j = new ObjectMapper().readTree(s.out());
        assertEquals(3, j.get("rows").asInt());
        assertEquals("unlabelled", j.get("label_mode").asText());
        assertEquals(1, j.get("duplicates").asInt());
        assertTrue(j.get("tokens").get("max").asInt() > 0, j.toString());
        CliRun text = CliRun.of("stats", "--data", texts.toString(), "--model", base.toString());
        assertEquals(0, text.exitCode(), text.err());
        assertTrue(text.out().contains("labels: none (unlabelled data)"), text.out());
    }
}
