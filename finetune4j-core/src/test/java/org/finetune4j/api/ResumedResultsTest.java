package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A finished run trained further (--resume-from-checkpoint latest with more epochs) that fails before it
 * ends leaves none of the earlier run's results: no eval_results.json, test_results.json or report
 * that its run_config.json (now the resumed run's, without results) would contradict.
 */
class ResumedResultsTest {
    @TempDir
    Path tmp;

    @Test
    void aResumeThatFailsLeavesNoResultsOfTheEarlierRun() throws Exception {
        Path base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 3, tmp.resolve("base"));
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 24; i++) {
            rows.add((i % 2 == 0 ? "a good day number " : "a bad day number ") + i + (i % 2 == 0 ? ",pos" : ",neg"));
        }
        Path csv = Files.write(tmp.resolve("train.csv"), rows);
        Path out = tmp.resolve("run");
        DataSpec data = new DataSpec(csv, null, null, new double[] {0.5, 0.25, 0.25}, ReadOptions.of("text", "label"), null,
                false, true);
        TrainingConfig one = TrainingConfig.builder().epochs(1).batchSize(8).maxLength(16).seed(5).build();
        FineTuning.run(FineTuning.Spec.builder().model(base.toString()).data(data).training(one).output(out).build(),
                TrainerListener.NONE);
        for (String f : List.of("eval_results.json", "test_results.json", "report.html")) {
            assertTrue(Files.exists(out.resolve(f)), f);
        }

        TrainingConfig two = TrainingConfig.builder().epochs(2).batchSize(8).maxLength(16).seed(5).build();
        TrainerListener failing = new TrainerListener() {
            @Override
            public void onTrainBegin(long totalSteps, long trainableParams, long totalParams) {
                throw new IllegalStateException("the machine went away");
            }
        };
        assertThrows(IllegalStateException.class, () -> FineTuning.run(FineTuning.Spec.builder().model(base.toString())
                .data(data).training(two).output(out).resumeFrom("latest").build(), failing));

        for (String f : RunDirectory.RESULT_FILES) {
            assertFalse(Files.exists(out.resolve(f)), f + " of the earlier run is gone");
        }
        assertTrue(new ObjectMapper().readTree(out.resolve("run_config.json").toFile()).path("results").isMissingNode()
                || new ObjectMapper().readTree(out.resolve("run_config.json").toFile()).path("results").isNull());
        assertEquals(2, new ObjectMapper().readTree(out.resolve("run_config.json").toFile()).path("training")
                .path("num_train_epochs").asInt(), "run_config.json describes the resumed run");
        assertTrue(Files.exists(out.resolve("model.safetensors")), "the model and checkpoints stay");
    }
}
