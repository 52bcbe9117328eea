package org.finetune4j.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
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
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.Functional;
import org.finetune4j.nn.Param;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * AdamW on a whole tiny model, over steps whose batches use different words (so rows go idle after having
 * had a gradient, and most rows never get one), with and without weight decay:
 *
 * <ul>
 *   <li>the row-by-row update of embedding tables ({@link TableMoments}) leaves exactly the weights and
 *       moments of the dense update of the same gradients, bit for bit;
 *   <li>the real training path (row-wise table gradients, the fused CPU loop) matches the plain oracle
 *       ({@link ReferenceAdamW}: PyTorch's embedding backward, tensor ops) within a tolerance;
 *   <li>the accelerator's update ({@link TensorOpUpdate}, run here on CPU arrays with PyTorch's embedding
 *       backward, as on a GPU) matches the CPU update within the same tolerance.
 * </ul>
 */
class AdamWTableRowsTest {
    static final List<List<String>> BATCHES = List.of(
            List.of("Forest fire near La Ronge Sask. Canada", "ok"),
            List.of("13,000 people receive #wildfires evacuation orders in California", "a short one"),
            List.of("nothing in common here", "zebra quartz"),
            List.of("ok", "Forest fire"));
    /** Steps of the runs compared, at lr 1e-2: a weight moves by up to about 6e-2 over them. */
    static final int STEPS = 6;

    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    static ModelConfig config(String type) {
        var enc = TinyModels.of(type);
        return ModelConfig.encoderOnly(enc).withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL, HeadConfig.standard(enc));
    }

    /** The optimizers compared, with the embedding gradients each one takes. */
    enum Route {
        /** What training runs on the CPU: row-wise table gradients, tables' moments row by row. */
        ROW_TABLES,
        /** The same gradients and loop, tables' moments dense (as for a table over 2 GiB). */
        DENSE_TABLES,
        /** The accelerator's tensor-op update, PyTorch's embedding backward (no row scope), as on a GPU. */
        TENSOR_OPS,
        /** The oracle: textbook AdamW in tensor ops, PyTorch's embedding backward. */
        REFERENCE
    }

    record Trained(Map<String, float[]> weights, Map<String, float[]> state, List<Double> norms, int activeRows) {}

    static Trained train(String type, Route route, double weightDecay) {
        ModelConfig cfg = config(type);
        List<Double> norms = new ArrayList<>();
        try (TransformerModel m = TransformerModel.random(cfg, TINY.manager(), 3)) {
            List<Param> params = new ArrayList<>(m.parameters().params().values());
            params.forEach(p -> p.array().setRequiresGradient(true));
            int pad = cfg.encoder().padTokenId();
            AdamW.Settings settings = AdamW.Settings.defaults(weightDecay);
            AdamW opt = switch (route) {
                case ROW_TABLES -> new AdamW(params, AdamW::decaysByDefault, settings, TINY.manager());
                case DENSE_TABLES -> new AdamW(params, AdamW::decaysByDefault, k -> 1.0, settings, TINY.manager(), new CpuUpdate(0));
                case TENSOR_OPS -> new AdamW(params, AdamW::decaysByDefault, k -> 1.0, settings, TINY.manager(), new TensorOpUpdate());
                case REFERENCE -> null;
            };
            ReferenceAdamW ref = route == Route.REFERENCE ? new ReferenceAdamW(params, AdamW::decaysByDefault, settings, TINY.manager()) : null;
            boolean rowScope = route == Route.ROW_TABLES || route == Route.DENSE_TABLES;
            try (opt; ref) {
                for (int s = 0; s < STEPS; s++) {
                    try (NDManager step = TINY.manager().newSubManager()) {
                        StepGradients rows = rowScope ? new StepGradients() : null;
                        EncoderInput in = TestBatches.encode(step, TINY.tokenizer(), BATCHES.get(s % BATCHES.size()), pad, 0)
                                .withStepGradients(rows);
                        Functional.seed(7 + s);
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray loss = m.logits(in, true).logSoftmax(-1).get(":, 1").neg().mean();
                            gc.backward(loss);
                        }
                        if (rows != null) {
                            rows.accumulate();
                        }
                        norms.add(opt != null ? opt.gradNorm(step) : ref.gradNorm(step));
                        // A fixed clip coefficient: the norms' float sums differ in order between the paths.
                        if (opt != null) {
                            opt.step(1e-2, 0.7, step);
                        } else {
                            ref.step(1e-2, 0.7, step);
                        }
                    }
                }
                Map<String, float[]> weights = new LinkedHashMap<>();
                params.forEach(p -> weights.put(p.name(), p.array().toFloatArray()));
                Map<String, float[]> state = new LinkedHashMap<>();
                if (opt != null) {
                    for (Map.Entry<String, HostTensor> e : opt.state().entrySet()) {
                        state.put(e.getKey(), e.getValue().toFloats());
                    }
                } else {
                    state.putAll(ref.state());
                }
                Param word = params.stream().filter(p -> p.name().endsWith("word_embeddings.weight")).findFirst().orElseThrow();
                TableMoments t = opt == null ? null : opt.tableMoments(word);
                assertEquals(route == Route.ROW_TABLES, t != null, "moments kept row by row only on the CPU, for tables under the limit");
                return new Trained(weights, state, norms, t == null ? -1 : t.activeRows());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"bert, 0.0", "bert, 0.1", "distilbert, 0.1", "roberta, 0.0"})
    void rowByRowUpdateEqualsTheDenseUpdateBitForBit(String type, double weightDecay) {
        Trained dense = train(type, Route.DENSE_TABLES, weightDecay);
        Trained rows = train(type, Route.ROW_TABLES, weightDecay);
        String word = wordTable(type);
        float[] initial;
        try (TransformerModel fresh = TransformerModel.random(config(type), TINY.manager(), 3)) {
            initial = fresh.parameters().params().get(word).array().toFloatArray();
        }
        assertNotEquals(0, java.util.Arrays.compare(initial, rows.weights().get(word)), "the word table trained");
        assertEquals(dense.weights().keySet(), rows.weights().keySet());
        for (String k : dense.weights().keySet()) {
            assertArrayEquals(dense.weights().get(k), rows.weights().get(k), k + ": weights differ");
        }
        assertEquals(dense.state().keySet(), rows.state().keySet());
        for (String k : dense.state().keySet()) {
            assertArrayEquals(dense.state().get(k), rows.state().get(k), k + ": optimizer state differs");
        }
        assertEquals(dense.norms(), rows.norms(), "the same gradients, so the same norms");
        // Moments in memory only for the rows the batches used (and the word table did not have them all).
        int vocab = TinyModels.of(type).vocabSize();
        assertTrue(rows.activeRows() > 5 && rows.activeRows() < vocab, rows.activeRows() + " of " + vocab);
    }

    @ParameterizedTest
    @CsvSource({"bert, 0.0", "bert, 0.1", "distilbert, 0.1", "roberta, 0.0"})
    void theTrainingPathMatchesThePlainAdamW(String type, double weightDecay) {
        assertClose(train(type, Route.REFERENCE, weightDecay), train(type, Route.ROW_TABLES, weightDecay), type);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert"})
    void theAcceleratorUpdateMatchesTheCpuUpdate(String type) {
        assertClose(train(type, Route.ROW_TABLES, 0.1), train(type, Route.TENSOR_OPS, 0.1), type);
    }

    /**
     * The tolerance between paths whose float operations differ (the order in which an embedding row's
     * gradient is summed, PyTorch's backward against the lookup order; the fused loop's
     * {@code stepSize m / (sqrt(v) + epsHat)} against the textbook form). AdamW divides by sqrt(v), so a
     * gradient at rounding-noise level still moves its weight by up to lr: the attention key biases', which
     * is 0 in exact arithmetic (softmax does not change when every score of a query gains the same q·b).
     * Measured over these runs (6 × ~1 M weights): 12 weights off by more than 1e-5, none by more than
     * 9e-5; moments other than the key biases' within 7e-5 (relative L2); gradient norms within 4e-8 at the
     * first step and 1.4e-5 at the last (relative), as the weights drift apart.
     */
    private static void assertClose(Trained expected, Trained actual, String type) {
        assertEquals(expected.weights().keySet(), actual.weights().keySet());
        float worst = 0;
        long off = 0;
        long all = 0;
        for (String k : expected.weights().keySet()) {
            float[] x = expected.weights().get(k);
            float[] y = actual.weights().get(k);
            for (int i = 0; i < x.length; i++) {
                float d = Math.abs(x[i] - y[i]);
                worst = Math.max(worst, d);
                off += d > 1e-5f ? 1 : 0;
            }
            all += x.length;
        }
        assertTrue(worst <= 2e-4f, type + ": a weight differs by " + worst + " (2 % of lr allowed)");
        assertTrue(off <= all / 10_000, type + ": " + off + " of " + all + " weights differ by more than 1e-5");
        assertEquals(expected.state().keySet(), actual.state().keySet());
        for (String k : expected.state().keySet()) {
            if (k.endsWith("key.bias") || k.endsWith("k_lin.bias")) {
                continue; // moments of rounding noise (see above)
            }
            float[] x = expected.state().get(k);
            float[] y = actual.state().get(k);
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < x.length; i++) {
                diff += (double) (x[i] - y[i]) * (x[i] - y[i]);
                norm += (double) x[i] * x[i];
            }
            assertTrue(Math.sqrt(diff) <= 1e-3 * Math.sqrt(norm), k + ": moments differ by " + Math.sqrt(diff / norm) + " (relative L2)");
        }
        for (int s = 0; s < expected.norms().size(); s++) {
            double a = expected.norms().get(s);
            double b = actual.norms().get(s);
            assertTrue(a > 0 && Math.abs(a - b) <= 1e-4 * a, "gradient norm at step " + s + ": " + a + " vs " + b);
        }
    }

    private static String wordTable(String type) {
        return (type.equals("distilbert") ? "distilbert." : type + ".") + "embeddings.word_embeddings.weight";
    }
}
