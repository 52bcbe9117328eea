package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.io.HostTensor;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.EmbeddingGradients;
import org.finetune4j.nn.Functional;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AdamW's row-by-row update of embedding tables must leave exactly the weights and moments of the dense
 * update it replaces, bit for bit: over steps whose batches use different words (so rows go idle after
 * having had a gradient, and most rows never get one), with and without weight decay.
 */
class AdamWTableRowsTest {
    static final List<List<String>> BATCHES = List.of(
            List.of("Forest fire near La Ronge Sask. Canada", "ok"),
            List.of("13,000 people receive #wildfires evacuation orders in California", "a short one"),
            List.of("nothing in common here", "zebra quartz"),
            List.of("ok", "Forest fire"));
    static NDManager manager;
    static TextTokenizer tokenizer;

    @BeforeAll
    static void setUp(@org.junit.jupiter.api.io.TempDir Path tokDir) {
        manager = NDManager.newBaseManager();
        TinyModels.writeTokenizer(tokDir);
        tokenizer = TextTokenizer.load(tokDir, 0);
    }

    @AfterAll
    static void tearDown() {
        tokenizer.close();
        manager.close();
        System.clearProperty("finetune4j.sparseTableGradients");
    }

    static ModelConfig config(String type) {
        var enc = TinyModels.of(type);
        return ModelConfig.encoderOnly(enc).withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL, HeadConfig.standard(enc));
    }

    record Trained(Map<String, float[]> weights, Map<String, float[]> state, List<Double> norms, int activeRows) {}

    static Trained train(String type, boolean rowTables, double weightDecay) {
        return train(type, rowTables, weightDecay, true);
    }

    static Trained train(String type, boolean rowTables, double weightDecay, boolean fused) {
        System.setProperty("finetune4j.sparseTableGradients", Boolean.toString(rowTables));
        System.setProperty("finetune4j.fusedAdamW", Boolean.toString(fused));
        ModelConfig cfg = config(type);
        List<Double> norms = new ArrayList<>();
        try (TransformerModel m = TransformerModel.random(cfg, manager, 3)) {
            List<Param> params = new ArrayList<>(m.parameters().params().values());
            params.forEach(p -> p.array().setRequiresGradient(true));
            int pad = cfg.encoder().padTokenId();
            try (AdamW opt = new AdamW(params, AdamW::decaysByDefault, AdamW.Settings.defaults(weightDecay), manager)) {
                for (int s = 0; s < 6; s++) {
                    try (NDManager step = manager.newSubManager(); EmbeddingGradients rows = EmbeddingGradients.open()) {
                        EncoderInput in = TestBatches.encode(step, tokenizer, BATCHES.get(s % BATCHES.size()), pad, 0);
                        Functional.seed(7 + s);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray loss = m.logits(in, true).logSoftmax(-1).get(":, 1").neg().mean();
                            gc.backward(loss);
                        }
                        rows.accumulate();
                        norms.add(opt.gradNorm(step));
                        opt.step(1e-2, 0.7, step); // a fixed clip coefficient: the norms' float sums differ in order
                    }
                }
                Map<String, float[]> weights = new LinkedHashMap<>();
                params.forEach(p -> weights.put(p.name(), p.array().toFloatArray()));
                Map<String, float[]> state = new LinkedHashMap<>();
                for (Map.Entry<String, HostTensor> e : opt.state().entrySet()) {
                    state.put(e.getKey(), e.getValue().toFloats());
                }
                Param word = params.stream().filter(p -> p.name().endsWith("word_embeddings.weight")).findFirst().orElseThrow();
                TableMoments t = opt.tableMoments(word);
                assertEquals(rowTables && fused, t != null, "moments kept row by row only for row gradients, on the fused path");
                return new Trained(weights, state, norms, t == null ? -1 : t.activeRows());
            }
        } finally {
            System.clearProperty("finetune4j.sparseTableGradients");
            System.clearProperty("finetune4j.fusedAdamW");
        }
    }

    @ParameterizedTest
    @CsvSource({"bert, 0.0", "bert, 0.1", "distilbert, 0.1", "roberta, 0.0"})
    void rowByRowUpdateEqualsTheDenseUpdateBitForBit(String type, double weightDecay) {
        Trained dense = train(type, false, weightDecay);
        Trained rows = train(type, true, weightDecay);
        float[] initial;
        try (TransformerModel fresh = TransformerModel.random(config(type), manager, 3)) {
            String word = (type.equals("distilbert") ? "distilbert." : type + ".") + "embeddings.word_embeddings.weight";
            initial = fresh.parameters().params().get(word).array().toFloatArray();
            assertNotEquals(0, java.util.Arrays.compare(initial, rows.weights().get(word)), "the word table trained");
        }
        assertSame(dense, rows);
        // Moments in memory only for the rows the batches used (and the word table did not have them all).
        int vocab = TinyModels.of(type).vocabSize();
        assertTrue(rows.activeRows() > 5 && rows.activeRows() < vocab, rows.activeRows() + " of " + vocab);
    }

    /** The tensor-op path (what an accelerator runs) takes row gradients too: they become a dense gradient. */
    @ParameterizedTest
    @CsvSource({"bert, 0.1"})
    void theTensorOpPathTakesRowGradients(String type, double weightDecay) {
        Trained dense = train(type, false, weightDecay, false);
        Trained rows = train(type, true, weightDecay, false);
        assertSame(dense, rows);
        assertEquals(-1, rows.activeRows());
    }

    private static void assertSame(Trained dense, Trained rows) {
        assertEquals(dense.weights().keySet(), rows.weights().keySet());
        for (String k : dense.weights().keySet()) {
            assertArrayEquals(dense.weights().get(k), rows.weights().get(k), k + ": weights differ");
        }
        for (String k : dense.state().keySet()) {
            assertArrayEquals(dense.state().get(k), rows.state().get(k), k + ": optimizer state differs");
        }
        for (int s = 0; s < dense.norms().size(); s++) {
            double a = dense.norms().get(s);
            double b = rows.norms().get(s);
            assertTrue(a > 0 && Math.abs(a - b) <= 1e-6 * a, "gradient norm at step " + s + ": " + a + " vs " + b);
        }
    }
}
