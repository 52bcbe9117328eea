package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --resume-from-checkpoint asks for the same run: other data, split, seed or model-changing settings
 * are refused with each difference listed, and a finished run is only trained further with more epochs.
 * Nothing of the run is touched by a refused resume.
 */
class ResumeCommandTest {
    @TempDir
    static Path dir;
    static Path base;
    static Path data;

    @BeforeAll
    static void tinyModelAndData() throws Exception {
        base = dir.resolve("base");
        TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 5, base);
        data = TinyReviews.write(dir.resolve("train.csv"));
    }

    static CliRun train(Path out, String... extra) {
        List<String> args = new ArrayList<>(List.of("train", "--model", base.toString(), "--train", data.toString(), "--split",
                "0.5,0.25,0.25", "--epochs", "1", "--batch-size", "8", "--learning-rate", "2e-3", "--max-length", "16",
                "--seed", "3", "--output", out.toString(), "--quiet"));
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
    void otherSettingsAreRefusedListingEachAndLeaveTheRunAsItWas() throws Exception {
        Path run = dir.resolve("refused");
        assertEquals(0, train(run).exitCode());
        byte[] model = Files.readAllBytes(run.resolve("model.safetensors"));
        byte[] results = Files.readAllBytes(run.resolve("eval_results.json"));

        CliRun other = train(run, "--max-length", "32", "--split", "0.6,0.2,0.2", "--seed", "4",
                "--resume-from-checkpoint", "latest");
        assertEquals(2, other.exitCode(), other.err()); // a user error
        assertTrue(other.err().contains("training.max_length: 16 -> 32"), other.err());
        assertTrue(other.err().contains("data.split: [0.5,0.25,0.25] -> [0.6,0.2,0.2]"), other.err());
        assertTrue(other.err().contains("training.seed: 3 -> 4"), other.err());
        assertArrayEquals(model, Files.readAllBytes(run.resolve("model.safetensors")));
        assertArrayEquals(results, Files.readAllBytes(run.resolve("eval_results.json")));
        assertTrue(new ObjectMapper().readTree(run.resolve("run_config.json").toFile()).hasNonNull("results"));
    }

    @Test
    void aFinishedRunTrainsFurtherOnlyWithMoreEpochs() throws Exception {
        Path run = dir.resolve("further");
        assertEquals(0, train(run).exitCode());

        CliRun again = train(run, "--resume-from-checkpoint", "latest");
        assertEquals(2, again.exitCode(), again.err());
        assertTrue(again.err().contains("has finished its 1 epochs"), again.err());
        assertTrue(again.err().contains("give a larger --epochs"), again.err());

        CliRun more = train(run, "--epochs", "2", "--resume-from-checkpoint", "latest", "--logging-steps", "1");
        assertEquals(0, more.exitCode(), more.err());
        var results = new ObjectMapper().readTree(run.resolve("run_config.json").toFile()).path("results");
        assertEquals(6, results.path("global_step").asInt(), "3 steps an epoch, 2 epochs: " + results);
    }
}
