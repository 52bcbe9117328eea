package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resuming with other model-changing settings is refused; a setting an older run_config.json lacks reads as its default. */
class ResumeCheckTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Map<String, Object> runConfig(TrainingConfig cfg) throws Exception {
        return Map.of("training", JSON.readTree(cfg.toJson()));
    }

    /** A run_config.json as a run from before {@code missing} existed wrote it. */
    private static void writeOld(Path dir, TrainingConfig cfg, String... missing) throws Exception {
        ObjectNode training = (ObjectNode) JSON.readTree(cfg.toJson());
        training.remove(List.of(missing));
        ObjectNode rc = JSON.createObjectNode();
        rc.set("training", training);
        Files.writeString(dir.resolve("run_config.json"), rc.toString());
    }

    @Test
    void aSettingTheRunPredatesIsItsDefaultAndAnotherValueIsRefused(@TempDir Path dir) throws Exception {
        TrainingConfig defaults = TrainingConfig.builder().build();
        String[] newer = {"layerwise_lr_decay", "ema_decay", "reinit_top_layers"};
        writeOld(dir, defaults, newer);
        List<String> log = new ArrayList<>();
        ResumeCheck.check(dir, runConfig(defaults), log::add); // the old run trained as the defaults do

        for (TrainingConfig other : List.of(defaults.toBuilder().layerwiseLrDecay(0.8).build(),
                defaults.toBuilder().emaDecay(0.999).build(), defaults.toBuilder().reinitTopLayers(2).build())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ResumeCheck.check(dir, runConfig(other), log::add));
            assertTrue(e.getMessage().contains("--resume-from-checkpoint refused"), e.getMessage());
            assertTrue(e.getMessage().matches("(?s).*training\\.\\w+: [0-9.]+ -> [0-9.]+.*"), e.getMessage());
        }
    }

    @Test
    void trainingArgsWithoutANewerSettingReadWithItsDefault() {
        TrainingConfig defaults = TrainingConfig.builder().seed(3).build();
        String old = defaults.toJson().replaceAll("\\s*\"layerwise_lr_decay\" : [0-9.]+,", "");
        assertTrue(!old.contains("layerwise_lr_decay"), old);
        org.junit.jupiter.api.Assertions.assertEquals(defaults, TrainingConfig.fromJson(old));
    }
}
