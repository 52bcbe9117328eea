package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.data.Batches;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.io.HostTensor;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each architecture under each strategy: exactly the parameters the strategy names train (picked by
 * their Hugging Face key names), a few Trainer steps change those and no others, and the result
 * survives our own save and load (the whole model, or for LoRA the PEFT adapter on the saved base).
 */
class ArchitectureStrategiesTest {
    static NDManager manager;
    static TextTokenizer tokenizer;
    static EncodedDataset train;

    @BeforeAll
    static void setUp(@TempDir Path dir) throws Exception {
        manager = NDManager.newBaseManager();
        TinyModels.writeTokenizer(dir);
        tokenizer = TextTokenizer.load(dir, 32);
        train = TinyRun.encode(TinyRun.writeCsv(dir, "train.csv", 8, 0), tokenizer, null); // 16 examples
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
        manager.close();
    }

    /** What trains under {@code strategy} (partial: the embeddings and layer 0 frozen), by key name. */
    static Predicate<String> expectedTrainable(TransformerModel m, Strategy strategy) {
        String p = m.encoder().prefix();
        Predicate<String> head = k -> k.startsWith("classifier.") || k.startsWith("pre_classifier.");
        return switch (strategy) {
            case FULL -> k -> true;
            case FROZEN -> head;
            // The embeddings (for ELECTRA also embeddings_project, which runs before layer 0) and layer 0.
            case PARTIAL -> k -> !k.startsWith(p + "embeddings") && !k.startsWith(p + "encoder.layer.0.")
                    && !k.startsWith(p + "transformer.layer.0.");
            // PEFT's defaults for these architectures: query and value of every layer, and the head.
            case LORA -> head.or(k -> k.matches(".*\\.layer\\.\\d+\\.attention\\.self\\.(query|value)\\.lora_[AB]\\.weight")
                    || k.matches(".*\\.layer\\.\\d+\\.attention\\.[qv]_lin\\.lora_[AB]\\.weight"));
        };
    }

    private static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"bert, full", "bert, frozen", "bert, partial", "bert, lora",
            "distilbert, full", "distilbert, frozen", "distilbert, partial", "distilbert, lora",
            "roberta, full", "roberta, frozen", "roberta, partial", "roberta, lora",
            "xlm-roberta, full", "xlm-roberta, frozen", "xlm-roberta, partial", "xlm-roberta, lora",
            "electra, full", "electra, frozen", "electra, partial", "electra, lora"})
    void theStrategysParametersTrainAndTheResultRoundTrips(String type, String strategyId, @TempDir Path dir) {
        EncoderConfig enc = TinyModels.of(type);
        Strategy strategy = Strategy.of(strategyId);
        TrainingConfig cfg = TrainingConfig.builder().strategy(strategy).frozenLayers(strategy == Strategy.PARTIAL ? 1 : 0)
                .batchSize(4).learningRate(1e-3).epochs(1).loggingSteps(1).evalStrategy("no").loadBestModelAtEnd(false)
                .seed(7).build();
        LoraConfig lora = type.equals("distilbert") ? LoraConfig.of(16, 32, 0.05, List.of("q_lin", "v_lin"))
                : LoraConfig.DEFAULTS;
        try (TransformerModel m = TinyRun.model(enc, HeadConfig.standard(enc), train.labels().names(), manager, 11)) {
            m.save(dir.resolve("base"));
            Strategies.Prepared prepared = Strategies.prepare(m, cfg, lora, Set.of());
            Set<String> trainable = prepared.trainable().stream().map(Param::name).collect(Collectors.toCollection(TreeSet::new));
            Set<String> expected = m.parameters().params().keySet().stream().filter(expectedTrainable(m, strategy))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertEquals(expected, trainable, type + " " + strategyId);
            assertFalse(trainable.isEmpty());

            Map<String, HostTensor> before = m.parameters().stateDict(k -> true);
            CheckpointFormat checkpoints = prepared.lora() != null ? new AdapterCheckpointFormat(prepared.lora(), tokenizer, null)
                    : new ModelCheckpointFormat(m, tokenizer, null);
            Trainer.Setup s = new Trainer.Setup(cfg, prepared.trainable(), LayerwiseLr.of(m), new TokenizedExamples(m, train),
                    epoch -> Batches.plan(train.lengths(), cfg.perDeviceTrainBatchSize(),
                            Batches.Order.SHUFFLED, cfg.seed(), epoch),
                    null, false, null, new StandardMetrics(m.config().labels(), false, null), checkpoints, dir.resolve("run"),
                    TrainerListener.NONE);
            try (Trainer t = new Trainer(s, manager)) {
                assertEquals(4, t.train(null).globalStep(), "16 examples in batches of 4");
            }
            Map<String, HostTensor> after = m.parameters().stateDict(k -> true);
            for (String k : after.keySet()) {
                boolean changed = before.containsKey(k) && !before.get(k).sameAs(after.get(k));
                if (trainable.contains(k)) {
                    assertTrue(changed || !before.containsKey(k), k + " trains under " + strategyId + " but did not change");
                } else {
                    assertFalse(changed, k + " is frozen under " + strategyId + " but changed");
                }
            }

            try (NDManager batch = manager.newSubManager()) {
                EncoderInput in = TestBatches.encode(batch, tokenizer, List.of("the movie was good", "what a nasty one"),
                        enc.padTokenId(), 0);
                float[] logits = m.logits(in, false).toFloatArray();
                if (prepared.lora() == null) {
                    m.save(dir.resolve("trained"));
                    try (TransformerModel back = TransformerModel.load(dir.resolve("trained"), manager).model()) {
                        assertEquals(json(m.config().toJson()), json(back.config().toJson()), "config.json round-trips");
                        assertArrayEquals(logits, back.logits(in, false).toFloatArray(), 0f);
                    }
                } else {
                    prepared.lora().save(dir.resolve("adapter"));
                    try (TransformerModel base = TransformerModel.load(dir.resolve("base"), manager).model()) {
                        Lora.load(base, dir.resolve("adapter"));
                        assertArrayEquals(logits, base.logits(in, false).toFloatArray(), 0f);
                    }
                }
            }
        }
    }
}
