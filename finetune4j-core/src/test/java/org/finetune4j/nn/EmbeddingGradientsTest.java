package org.finetune4j.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Row-wise embedding gradients must equal PyTorch's embedding backward for every parameter, accumulate
 * over micro-batches, leave the padding row without gradient (padding_idx), and leak no handles.
 */
class EmbeddingGradientsTest {
    static final List<String> TEXTS = List.of("ok", "Forest fire near La Ronge Sask. Canada", "a short one",
            "13,000 people receive #wildfires evacuation orders in California");
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    /** Gradients of every parameter after {@code steps} backward passes on the same batch (no update). */
    static Map<String, float[]> gradients(TransformerModel m, int padId, boolean rowWise, int steps) {
        return gradients(m, padId, rowWise, steps, true);
    }

    static Map<String, float[]> gradients(TransformerModel m, int padId, boolean rowWise, int steps, boolean accumulate) {
        for (int s = 0; s < steps; s++) {
            try (NDManager batch = TINY.manager().newSubManager()) {
                StepGradients rows = rowWise ? new StepGradients() : null;
                EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS, padId, 0).withStepGradients(rows);
                Functional.seed(40 + s); // the same dropout masks on both paths
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = m.logits(in, true).logSoftmax(-1).get(":, 1").neg().mean();
                    gc.backward(loss);
                }
                if (rows != null && accumulate) {
                    rows.accumulate();
                }
            }
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager read = TINY.manager().newSubManager()) {
            for (Param p : m.parameters().params().values()) {
                NDArray g = p.gradient(); // null for a table whose gradient is row by row
                float[] dense = g == null ? new float[(int) p.numel()] : g.toFloatArray();
                if (g != null && !p.hasHandGradient()) {
                    g.attach(read);
                }
                if (p.rowGradient() != null) {
                    float[] rows = p.rowGradient().toDense();
                    for (int i = 0; i < dense.length; i++) {
                        dense[i] += rows[i];
                    }
                }
                if (p.hasHandGradient()) {
                    p.dropGradient(); // the layers' hand-written gradients are handles; read, they go
                }
                out.put(p.name(), dense);
            }
        }
        return out;
    }

    /** The encoder's key prefix inside the classifier. */
    static String base(String type) {
        return type.equals("deberta-v2") ? "deberta." : type + ".";
    }

    static TransformerModel model(String type) {
        var enc = TinyModels.of(type);
        ModelConfig cfg = ModelConfig.encoderOnly(enc).withClassifier(List.of("a", "b"), ProblemType.SINGLE_LABEL,
                HeadConfig.standard(enc));
        TransformerModel m = TransformerModel.random(cfg, TINY.manager(), 3);
        m.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "deberta-v2"})
    void rowWiseGradientsEqualPyTorchsEmbeddingBackward(String type) {
        try (TransformerModel a = model(type); TransformerModel b = model(type)) {
            int pad = a.config().encoder().padTokenId();
            Map<String, float[]> dense = gradients(a, pad, false, 2);
            int before = ((ai.djl.ndarray.BaseNDManager) b.manager()).getManagedArrays().size();
            Map<String, float[]> rows = gradients(b, pad, true, 2); // two micro-batches: gradients add up
            assertEquals(before, ((ai.djl.ndarray.BaseNDManager) b.manager()).getManagedArrays().size(),
                    "no handles left under the parameters' TINY.manager()");
            String word = a.encoder().prefix() + "embeddings.word_embeddings.weight";
            int h = (int) a.parameters().get(word).shape().get(1); // the table's width (ELECTRA's is embedding_size)
            double worst = 0;
            double wordNorm = 0;
            for (String k : dense.keySet()) {
                float[] x = dense.get(k);
                float[] y = rows.get(k);
                for (int i = 0; i < x.length; i++) {
                    boolean padRow = k.equals(word) && i / h == pad;
                    if (padRow) {
                        assertEquals(0f, y[i], "the padding row gets no gradient (padding_idx)");
                        continue;
                    }
                    worst = Math.max(worst, Math.abs(x[i] - y[i]));
                    if (k.equals(word)) {
                        wordNorm += y[i] * y[i];
                    }
                }
            }
            assertTrue(wordNorm > 1e-8, "the word table did get gradient: " + wordNorm);
            assertTrue(worst < 1e-6, type + ": gradients differ by " + worst);
        }
        // The tables get no dense gradient at all: their gradient is the rows.
        try (TransformerModel d = model(type)) {
            gradients(d, d.config().encoder().padTokenId(), true, 1);
            Param word = d.parameters().params().get(d.encoder().prefix() + "embeddings.word_embeddings.weight");
            assertEquals(null, ai.djl.pytorch.jni.JniUtils.getGradient((ai.djl.pytorch.engine.PtNDArray) word.array()));
            assertTrue(word.rowGradient().count() > 0 && word.rowGradient().count() < word.shape().get(0),
                    "a few rows: " + word.rowGradient().count());
        }
        // The scope really takes the tables out of PyTorch's backward: without accumulate they get nothing.
        try (TransformerModel c = model(type)) {
            Map<String, float[]> none = gradients(c, c.config().encoder().padTokenId(), true, 1, false);
            String word = c.encoder().prefix() + "embeddings.word_embeddings.weight";
            double sum = 0;
            for (float v : none.get(word)) {
                sum += Math.abs(v);
            }
            assertEquals(0.0, sum, "no gradient reached the word table before accumulate()");
        }
    }
}
