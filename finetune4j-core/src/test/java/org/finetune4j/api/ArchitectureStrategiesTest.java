package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.train.AdamW;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The newer architectures end to end through the library: a tiny random MPNet or ALBERT checkpoint is
 * fine-tuned for one epoch with each strategy, and what the run saves loads and predicts.
 */
class ArchitectureStrategiesTest {
    @TempDir
    Path dir;

    private Path csv(String name, int n) throws Exception {
        String[] pos = {"good", "great", "lovely", "superb"};
        String[] neg = {"bad", "awful", "poor", "nasty"};
        List<String> lines = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < n; i++) {
            lines.add("the movie was " + pos[i % pos.length] + ",pos");
            lines.add("the food was " + neg[i % neg.length] + ",neg");
        }
        return Files.write(dir.resolve(name), lines);
    }

    /**
     * @param frozenLayers for partial: ALBERT's two layers share one group, so only 0 or 2 can be
     *     frozen (AlbertSharedLayersTest checks the refusal of 1)
     * @param targets LoRA targets as PEFT's default for the model type names them
     */
    @ParameterizedTest
    @CsvSource({"mpnet, full, 0, ''", "mpnet, frozen, 0, ''", "mpnet, partial, 1, ''", "mpnet, lora, 0, q v",
            "albert, full, 0, ''", "albert, frozen, 0, ''", "albert, partial, 2, ''", "albert, lora, 0, query value"})
    void fineTunesSavesAndPredicts(String type, String strategy, int frozenLayers, String targets) throws Exception {
        Path base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.of(type)), 3, dir.resolve("base"));
        DataSpec data = new DataSpec(csv("train.csv", 8), csv("val.csv", 2), null, null, ReadOptions.of("text", "label"), null,
                false, true);
        boolean lora = strategy.equals("lora");
        TrainingConfig training = TrainingConfig.builder().strategy(strategy).frozenLayers(frozenLayers).epochs(1).batchSize(4)
                .maxLength(16).learningRate(1e-3).seed(11).build();
        Path out = dir.resolve("run");
        RunResult r = FineTuning.run(FineTuning.Spec.builder().model(base.toString()).data(data).training(training)
                .lora(lora ? LoraConfig.of(4, 8, 0.0, List.of(targets.split(" "))) : null).output(out).build(),
                TrainerListener.NONE);
        assertTrue(Double.isFinite(r.validation().get("eval_loss")), r.validation().toString());
        assertEquals(4L, ((Number) r.facts().get("global_step")).longValue(), "16 examples in batches of 4");
        try (TextClassifier clf = lora ? TextClassifier.load(base, r.outputDir()) : TextClassifier.load(r.outputDir())) {
            assertEquals(type, clf.config().encoder().modelType());
            List<Prediction> p = clf.predictBatch(List.of("the movie was good", "the food was bad"));
            assertEquals(2, p.size());
            assertTrue(List.of("pos", "neg").contains(p.get(0).label()), p.toString());
        }
    }

    /** Trainer.get_decay_parameter_names: no decay for any name with "bias" in it, nor for LayerNorm weights. */
    @Test
    void weightDecaySkipsWhatTransformersSkips() {
        assertFalse(AdamW.decaysByDefault("mpnet.encoder.relative_attention_bias.weight"));
        assertFalse(AdamW.decaysByDefault("mpnet.encoder.layer.0.attention.attn.q.bias"));
        assertFalse(AdamW.decaysByDefault("mpnet.encoder.layer.0.attention.LayerNorm.weight"));
        assertFalse(AdamW.decaysByDefault("albert.encoder.albert_layer_groups.0.albert_layers.0.full_layer_layer_norm.weight"));
        assertTrue(AdamW.decaysByDefault("albert.encoder.embedding_hidden_mapping_in.weight"));
        assertTrue(AdamW.decaysByDefault("mpnet.embeddings.word_embeddings.weight"));
    }
}
