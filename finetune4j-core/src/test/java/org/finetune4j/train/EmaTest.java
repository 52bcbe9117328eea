package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The weight average (--ema-decay): its value by hand, and a resumed run that ends where an uninterrupted one does. */
class EmaTest {
    static final double D = 0.9;
    static NDManager manager;
    static TextTokenizer tokenizer;
    static EncodedDataset train;
    static EncodedDataset val;

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
        return TrainingConfig.builder().batchSize(4).learningRate(1e-3).epochs(3).loggingSteps(1).seed(7).emaDecay(D);
    }

    private static TransformerModel bert(long seed) {
        return TinyRun.model(TinyModels.bert(), HeadConfig.standard(TinyModels.bert()), train.labels().names(), manager, seed);
    }

    private static Trainer.Result run(TrainingConfig cfg, TransformerModel m, Path dir, Path resume, TrainerListener l) {
        Trainer.Setup s = TinyRun.setup(cfg, m, new TokenizedExamples(m, train), train.lengths(), new TokenizedExamples(m, val),
                dir, tokenizer, l);
        try (Trainer t = new Trainer(s, manager)) {
            return t.train(resume);
        }
    }

    /** After 3 steps the model holds d³ w0 + (1 - d)(d² w1 + d w2 + w3), from the weights each step left. */
    @Test
    void afterThreeStepsTheModelIsTheAverageByHand(@TempDir Path out) {
        List<String> names = List.of("classifier.weight", "bert.encoder.layer.1.attention.self.query.weight",
                "bert.embeddings.LayerNorm.bias");
        List<Map<String, float[]>> w = new ArrayList<>(); // w.get(k): the training weights after step k
        try (TransformerModel m = bert(5)) {
            TrainingConfig cfg = base().evalStrategy("no").loadBestModelAtEnd(false).build();
            run(cfg, m, out, null, new TrainerListener() {
                @Override
                public void onTrainBegin(long totalSteps, long trainableParams, long unused) {
                    w.add(weights(m, names));
                }

                @Override
                public void onStep(long step, long total, double loss, Control control) {
                    w.add(weights(m, names));
                    if (step == 3) {
                        control.stop();
                    }
                }
            });
            assertEquals(4, w.size(), "w0 and the weights after steps 1, 2, 3");
            Map<String, float[]> ema = weights(m, names);
            for (String name : names) {
                float[] w0 = w.get(0).get(name), w1 = w.get(1).get(name), w2 = w.get(2).get(name), w3 = w.get(3).get(name);
                double apart = 0;
                for (int i = 0; i < w0.length; i++) {
                    double want = D * D * D * w0[i] + (1 - D) * (D * D * w1[i] + D * w2[i] + w3[i]);
                    assertEquals(want, ema.get(name)[i], 1e-6 * Math.max(1, Math.abs(want)), name + "[" + i + "]");
                    apart = Math.max(apart, Math.abs(ema.get(name)[i] - w3[i]));
                }
                assertTrue(apart > 1e-4, name + ": the model ends with the average, not the last weights (" + apart + ")");
            }
        }
    }

    /** A run stopped after step 5 and resumed from checkpoint-3 ends with the uninterrupted run's weights and log, bit for bit. */
    @Test
    void aResumedRunEndsWithTheUninterruptedRunsAverage(@TempDir Path out, @TempDir Path interrupted) {
        TrainingConfig cfg = base().evalStrategy("steps").evalSteps(3).loadBestModelAtEnd(false).build();
        try (TransformerModel full = bert(5); TransformerModel first = bert(5); TransformerModel second = bert(5)) {
            Trainer.Result uninterrupted = run(cfg, full, out, null, TrainerListener.NONE);
            run(cfg, first, interrupted, null, new TrainerListener() {
                @Override
                public void onStep(long step, long total, double loss, Control control) {
                    if (step == 5) {
                        control.stop();
                    }
                }
            });
            Path ckpt = interrupted.resolve("checkpoint-3");
            assertTrue(Files.isRegularFile(ckpt.resolve(Ema.FILE)), "the training weights beside the averaged model");
            Map<String, HostTensor> model = SafeTensors.readFile(ckpt.resolve("model.safetensors"));
            Map<String, HostTensor> training = SafeTensors.readFile(ckpt.resolve(Ema.FILE));
            assertEquals(first.parameters().trainable().size(), training.size(), "every trainable weight");
            assertFalse(model.get("classifier.weight").sameAs(training.get("classifier.weight")),
                    "the checkpoint's model is the average, not the training weights");

            Trainer.Result resumed = run(cfg, second, interrupted, ckpt, TrainerListener.NONE);
            assertEquals(12, resumed.globalStep());
            TrainerTest.assertSameWeights(full, second);
            assertEquals(TrainerTest.json(uninterrupted.logHistory()), TrainerTest.json(resumed.logHistory()),
                    "the same losses, and the same evaluations of the average");
        }
    }

    private static Map<String, float[]> weights(TransformerModel m, List<String> names) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        names.forEach(n -> out.put(n, m.parameters().get(n).array().toFloatArray()));
        return out;
    }
}
