package org.finetune4j.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A whole run (FineTuning, what ./finetune4j train calls) of each strategy on a tiny saved base model of
 * an architecture: it trains, saves, and the saved model (or base + adapter) loads and predicts; frozen
 * and partial leave exactly the frozen weights as they were. The base is a bare encoder, so the head
 * (and DeBERTa's ContextPooler) is new, as with a real DeBERTa-v3 checkpoint.
 */
class StrategiesEndToEndTest {
    static final List<String> TEXTS = List.of("the storm flooded the town", "what a lovely sunny afternoon", "ok");

    @TempDir
    Path tmp;

    private Path data() throws Exception {
        List<String> rows = new ArrayList<>(List.of("text,label"));
        for (int i = 0; i < 24; i++) {
            rows.add(i % 2 == 0 ? "the storm flooded the town number " + i + ",disaster"
                    : "what a lovely sunny afternoon number " + i + ",calm");
        }
        Path csv = tmp.resolve("train.csv");
        Files.write(csv, rows);
        return csv;
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"deberta-v2, full, query_proj", "deberta-v2, frozen, query_proj", "deberta-v2, partial, query_proj",
            "deberta-v2, lora, query_proj"})
    void aRunTrainsSavesAndLoads(String type, String strategy, String query) throws Exception {
        Path base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.of(type)), 3, tmp.resolve("base"));
        Path out = tmp.resolve("out");
        TrainingConfig training = TrainingConfig.builder().strategy(strategy).frozenLayers(1).epochs(2).batchSize(8)
                .maxLength(16).learningRate(1e-3).loggingSteps(1).seed(5).build();
        LoraConfig lora = strategy.equals("lora") ? LoraConfig.of(4, 8, 0.0, List.of(query, "value_proj")) : null;
        RunResult r = FineTuning.run(FineTuning.Spec.builder().model(base.toString())
                .data(new DataSpec(data(), null, null, new double[] {0.75, 0.25}, ReadOptions.of("text", "label"), null, false, true))
                .training(training).lora(lora).output(out).build(), TrainerListener.NONE);
        assertTrue(Double.isFinite(r.validation().get("eval_loss")), r.validation().toString());

        float[][] first;
        try (TextClassifier c = strategy.equals("lora") ? TextClassifier.load(base, out) : TextClassifier.load(out)) {
            assertEquals(type, c.config().encoder().modelType());
            first = c.probabilities(TEXTS, null);
        }
        try (TextClassifier c = strategy.equals("lora") ? TextClassifier.load(base, out) : TextClassifier.load(out)) {
            float[][] again = c.probabilities(TEXTS, null);
            for (int i = 0; i < first.length; i++) {
                assertEquals(1.0, first[i][0] + first[i][1], 1e-5);
                org.junit.jupiter.api.Assertions.assertArrayEquals(first[i], again[i], 0f, "the same model loads twice the same");
            }
        }

        String p = type.equals("deberta-v2") ? "deberta." : type + ".";
        Map<String, HostTensor> before = SafeTensors.readFile(base.resolve("model.safetensors"));
        if (strategy.equals("lora")) {
            JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
            assertEquals(List.of(query, "value_proj"), List.of(cfg.get("target_modules").get(0).asText(),
                    cfg.get("target_modules").get(1).asText()));
            assertTrue(cfg.get("modules_to_save").toString().contains("pooler") || !type.equals("deberta-v2"),
                    "the new ContextPooler trains and is saved with the head: " + cfg.get("modules_to_save"));
            return;
        }
        Map<String, HostTensor> after = SafeTensors.readFile(out.resolve("model.safetensors"));
        String embeddings = p + "embeddings.word_embeddings.weight";
        String layer0 = p + "encoder.layer.0.attention.self." + query + ".weight";
        String layer1 = p + "encoder.layer.1.output.dense.weight";
        boolean embeddingsFrozen = !strategy.equals("full");
        assertEquals(embeddingsFrozen, strip(before, embeddings, p).sameAs(after.get(embeddings)), embeddings);
        assertEquals(embeddingsFrozen, strip(before, layer0, p).sameAs(after.get(layer0)), layer0);
        assertEquals(strategy.equals("frozen"), strip(before, layer1, p).sameAs(after.get(layer1)), layer1);
        if (type.equals("deberta-v2")) {
            assertTrue(after.containsKey("pooler.dense.weight") && !after.containsKey(p + "pooler.dense.weight"),
                    "DeBERTa's ContextPooler is saved top-level, as transformers names it");
        }
    }

    /** The bare base's tensor for a classifier key (the base has no "deberta." prefix). */
    private static HostTensor strip(Map<String, HostTensor> bare, String key, String prefix) {
        return bare.get(key.substring(prefix.length()));
    }
}
