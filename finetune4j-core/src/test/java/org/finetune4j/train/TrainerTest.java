package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.io.HostTensor;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
    static NDManager manager;
    static TextTokenizer tokenizer;
    static EncodedDataset train;
    static EncodedDataset val;

    @TempDir
    Path out;

    @BeforeAll
    static void setUp(@TempDir Path dir) throws Exception {
        manager = NDManager.newBaseManager();
        TinyModels.writeTokenizer(dir);
        tokenizer = TextTokenizer.load(dir, 32);
        train = TinyRun.encode(TinyRun.writeCsv(dir, "train.csv", 8, 0), tokenizer, null); // 16 examples
        val = TinyRun.encode(TinyRun.writeCsv(dir, "val.csv", 4, 5), tokenizer, train.labels());
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
        manager.close();
    }

    private static TrainingConfig.Builder base() {
        return TrainingConfig.builder().batchSize(4).learningRate(1e-3).epochs(3).loggingSteps(1).seed(7);
    }

    private static TransformerModel bert(long seed) {
        return TinyRun.model(TinyModels.bert(), HeadConfig.standard(TinyModels.bert()), train.labels().names(), manager, seed);
    }

    private Trainer.Result run(TrainingConfig cfg, TransformerModel m, Path dir, Path resume, TrainerListener l) {
        Trainer.Setup s = TinyRun.setup(cfg, m, new TokenizedExamples(m, train), train.lengths(), new TokenizedExamples(m, val),
                dir, tokenizer, l);
        return new Trainer(s, manager).train(resume);
    }

    @Test
    void aTinyModelOverfitsSixteenExamples() {
        try (TransformerModel m = bert(1)) {
            // A random tiny BERT starts almost symmetric: it needs a higher rate than a pretrained one to overfit quickly.
            TrainingConfig cfg = base().learningRate(3e-3).epochs(25).evalStrategy("no").loadBestModelAtEnd(false).build();
            Trainer.Setup s = TinyRun.setup(cfg, m, new TokenizedExamples(m, train), train.lengths(), null, out, tokenizer,
                    TrainerListener.NONE);
            Trainer t = new Trainer(s, manager);
            Trainer.Result r = t.train(null);
            Map<String, Object> onTrain = t.evaluate(new TokenizedExamples(m, train), "train_");
            assertEquals(1.0, (Double) onTrain.get("train_accuracy"), "16 training examples all right: " + onTrain);
            assertTrue((Double) onTrain.get("train_loss") < 0.05, onTrain.toString());
            assertEquals(100, r.globalStep(), "25 epochs x 4 batches");
            // every 50 steps the log also says what stays resident once free pages are returned
            List<String> trimmed = r.logHistory().stream().filter(x -> x.containsKey("rss_trimmed_mb"))
                    .map(x -> x.get("step").toString()).toList();
            assertEquals(List.of("50", "100"), trimmed);
            assertTrue(Files.isDirectory(out.resolve("checkpoint-100")), "a checkpoint per epoch without validation");
        }
    }

    @Test
    void theSameSeedGivesTheSameLossesAndWeights(@TempDir Path other) {
        TrainingConfig cfg = base().build();
        try (TransformerModel a = bert(3); TransformerModel b = bert(3)) {
            Trainer.Result ra = run(cfg, a, out, null, TrainerListener.NONE);
            Trainer.Result rb = run(cfg, b, other, null, TrainerListener.NONE);
            assertEquals(json(ra.logHistory()), json(rb.logHistory()));
            // The live native arrays do not grow with steps.
            var counts = ra.logHistory().stream().filter(r -> r.containsKey("native_arrays")).map(r -> r.get("native_arrays")).distinct().toList();
            assertEquals(1, counts.size(), "native arrays per logged step: " + counts);
            assertSameWeights(a, b);
        }
    }

    @Test
    void resumingFromACheckpointEndsWithTheWeightsOfAnUninterruptedRun(@TempDir Path interrupted) throws Exception {
        TrainingConfig cfg = base().evalStrategy("steps").evalSteps(3).loadBestModelAtEnd(false).build();
        try (TransformerModel full = bert(5); TransformerModel first = bert(5); TransformerModel second = bert(5)) {
            Trainer.Result uninterrupted = run(cfg, full, out, null, TrainerListener.NONE);
            // Interrupt after step 5 (checkpoint-3 exists), as a crash would.
            run(cfg, first, interrupted, null, new TrainerListener() {
                @Override
                public void onStep(long step, long total, double loss, Control control) {
                    if (step == 5) {
                        control.stop();
                    }
                }
            });
            assertTrue(Files.isDirectory(interrupted.resolve("checkpoint-3")));
            assertFalse(Files.isDirectory(interrupted.resolve("checkpoint-6")));
            // A kill while checkpoint-6 was being written leaves its hidden temporary directory behind.
            Path stale = interrupted.resolve(".checkpoint-6.tmp");
            Files.createDirectories(stale);
            Files.write(stale.resolve("model.safetensors"), new byte[1000]);
            // A fresh process: a new model object, resumed from the checkpoint.
            Trainer.Result resumed = run(cfg, second, interrupted, interrupted.resolve("checkpoint-3"), TrainerListener.NONE);
            assertEquals(uninterrupted.globalStep(), resumed.globalStep());
            assertSameWeights(full, second);
            assertEquals(json(uninterrupted.logHistory()), json(resumed.logHistory()), "the resumed log continues the same curve");
            assertFalse(Files.exists(stale), "the half-written checkpoint is removed when the run starts");
        }
    }

    @Test
    void cachedFrozenFeaturesTrainTheSameHeadAsTheFrozenEncoder(@TempDir Path other) {
        HeadConfig head = HeadConfig.mlp(Pooling.MEAN, 16, 0.1); // head dropout stays on: same masks in both paths
        TrainingConfig cfg = base().strategy("frozen").epochs(4).loadBestModelAtEnd(false).build();
        try (TransformerModel a = TinyRun.model(TinyRun.bertNoDropout(), head, train.labels().names(), manager, 9);
                TransformerModel b = TinyRun.model(TinyRun.bertNoDropout(), head, train.labels().names(), manager, 9)) {
            run(cfg, a, out, null, TrainerListener.NONE);
            Trainer.Setup s = TinyRun.setup(cfg, b,
                    CachedFeatureExamples.compute(b, train, false, 64, manager, null), train.lengths(),
                    CachedFeatureExamples.compute(b, val, false, 64, manager, null), other, tokenizer, TrainerListener.NONE);
            new Trainer(s, manager).train(null);
            for (String k : List.of("pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias")) {
                float[] x = a.parameters().get(k).array().toFloatArray();
                float[] y = b.parameters().get(k).array().toFloatArray();
                assertArrayEquals(x, y, 1e-5f, k);
            }
            // The encoder did not move.
            HostTensor w0;
            try (TransformerModel fresh = TinyRun.model(TinyRun.bertNoDropout(), head, train.labels().names(), manager, 9)) {
                w0 = org.finetune4j.nn.ParameterStore.toHost(fresh.parameters().get("bert.encoder.layer.1.output.dense.weight").array());
            }
            assertTrue(w0.sameAs(org.finetune4j.nn.ParameterStore.toHost(a.parameters().get("bert.encoder.layer.1.output.dense.weight").array())));
        }
    }

    @Test
    void theBestModelIsRestoredAndOnlyTheBestAndLatestCheckpointsAreKept() throws Exception {
        TrainingConfig cfg = base().epochs(4).saveTotalLimit(1).metricForBestModel("loss").build();
        try (TransformerModel m = bert(11)) {
            Trainer.Result r = run(cfg, m, out, null, TrainerListener.NONE);
            assertNotNull(r.bestCheckpoint());
            List<Path> kept = Trainer.checkpoints(out);
            assertTrue(kept.contains(r.bestCheckpoint()), kept.toString());
            assertTrue(kept.contains(out.resolve("checkpoint-16")), "the latest is kept: " + kept);
            assertTrue(kept.size() <= 2, kept.toString());
            // The live model now has the best checkpoint's weights.
            try (TransformerModel best = TransformerModel.load(r.bestCheckpoint(), manager).model()) {
                assertSameWeights(best, m);
            }
            assertTrue(Files.readString(out.resolve(Trainer.METRICS_FILE)).contains("\"eval_accuracy\""));
        }
    }

    @Test
    void withoutLoggingStepsAShortRunStillLogsALossCurve() {
        TrainingConfig auto = TrainingConfig.builder().build();
        assertNull(auto.loggingSteps(), "unset: chosen from the run's length");
        assertEquals(2, auto.loggingStepsFor(54), "the quick start's 54 steps: 27 points");
        assertEquals(2, auto.loggingStepsFor(46));
        assertEquals(1, auto.loggingStepsFor(12));
        assertEquals(1, auto.loggingStepsFor(0));
        assertEquals(50, auto.loggingStepsFor(1000));
        assertEquals(50, auto.loggingStepsFor(100_000), "a long run logs every 50 steps, as before");
        assertEquals(7, TrainingConfig.builder().loggingSteps(7).build().loggingStepsFor(54), "a value the user set is kept");
        // 11 epochs x 4 batches = 44 steps, logged every 2.
        TrainingConfig cfg = TrainingConfig.builder().batchSize(4).learningRate(1e-3).epochs(11).evalStrategy("no")
                .loadBestModelAtEnd(false).seed(7).build();
        try (TransformerModel m = bert(17)) {
            Trainer.Result r = run(cfg, m, out, null, TrainerListener.NONE);
            List<Object> steps = r.logHistory().stream().filter(x -> x.containsKey("loss")).map(x -> x.get("step")).toList();
            assertEquals(22, steps.size(), steps.toString());
            assertEquals(2L, steps.get(0));
            assertEquals(44L, steps.get(steps.size() - 1));
        }
    }

    @Test
    void byDefaultTwoCheckpointsAreKeptTheBestAndTheLatest() {
        TrainingConfig cfg = base().epochs(5).build();
        assertEquals(Integer.valueOf(2), cfg.saveTotalLimit());
        try (TransformerModel m = bert(19)) {
            Trainer.Result r = run(cfg, m, out, null, TrainerListener.NONE);
            List<Path> kept = Trainer.checkpoints(out);
            assertTrue(kept.contains(out.resolve("checkpoint-20")), "the latest is kept: " + kept);
            assertTrue(kept.contains(r.bestCheckpoint()), "the best is kept: " + r.bestCheckpoint() + " in " + kept);
            assertEquals(2, kept.size(), kept.toString());
        }
    }

    @Test
    void aLossThatBecomesNanStopsAndNamesTheStep(@TempDir Path dir) {
        TrainingConfig cfg = base().evalStrategy("steps").evalSteps(2).build();
        try (TransformerModel m = bert(13)) {
            TokenizedExamples real = new TokenizedExamples(m, train);
            Examples poisoned = new Examples() {
                int calls;

                @Override
                public int size() {
                    return real.size();
                }

                @Override
                public int tokenCount(int i) {
                    return real.tokenCount(i);
                }

                @Override
                public NDArray logits(NDManager mm, int[] idx, boolean training, org.finetune4j.nn.StepGradients rows) {
                    NDArray l = real.logits(mm, idx, training, rows);
                    return ++calls == 5 ? l.mul(Float.NaN) : l;
                }

                @Override
                public NDArray labels(NDManager mm, int[] idx) {
                    return real.labels(mm, idx);
                }

                @Override
                public int[] goldIds() {
                    return real.goldIds();
                }

                @Override
                public boolean[][] goldSets() {
                    return null;
                }
            };
            Trainer.Setup s = TinyRun.setup(cfg, m, poisoned, train.lengths(), new TokenizedExamples(m, val), dir, tokenizer,
                    TrainerListener.NONE);
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> new Trainer(s, manager).train(null));
            assertEquals(5, e.step());
            assertEquals(dir.resolve("checkpoint-4"), e.lastGoodCheckpoint());
            assertTrue(e.getMessage().contains("step 5") && e.getMessage().contains("checkpoint-4"), e.getMessage());
            assertTrue(Files.isDirectory(dir.resolve("checkpoint-4")));
        }
    }

    @Test
    void earlyStoppingComparesWithTheBestSoFar() {
        EarlyStopping loss = new EarlyStopping(false, 2, 0.01);
        assertTrue(loss.update(1.0).newBest());
        EarlyStopping.Decision d = loss.update(0.995); // better, but not by more than the threshold
        assertTrue(d.newBest());
        assertFalse(d.improved());
        assertEquals(1, d.evalsWithoutImprovement());
        d = loss.update(0.9); // a real improvement resets the count
        assertEquals(0, d.evalsWithoutImprovement());
        assertFalse(loss.update(0.95).stop()); // worse than the best (not the previous) once
        assertTrue(loss.update(0.91).stop()); // ... and again: patience 2 reached
        assertEquals(0.9, loss.best());
        EarlyStopping f1 = new EarlyStopping(true, null, 0);
        f1.update(0.5);
        assertTrue(f1.update(0.6).newBest());
        assertFalse(f1.update(0.55).stop(), "no patience: never stops");
    }

    /** The log as JSON without the resident memory, the one field that differs between identical runs. */
    static String json(Object o) {
        if (o instanceof java.util.List<?> records) {
            o = records.stream().map(r -> {
                Map<Object, Object> copy = new java.util.LinkedHashMap<>((Map<?, ?>) r);
                copy.remove("rss_mb");
                copy.remove("rss_trimmed_mb");
                return copy;
            }).toList();
        }
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static void assertSameWeights(TransformerModel a, TransformerModel b) {
        for (String k : a.parameters().params().keySet()) {
            assertArrayEquals(a.parameters().get(k).array().toFloatArray(), b.parameters().get(k).array().toFloatArray(), 0f, k);
        }
    }
}
