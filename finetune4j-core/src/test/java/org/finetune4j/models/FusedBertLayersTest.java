package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.nn.Functional;
import org.finetune4j.nn.FusedKernels;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The hand-written training pass of BERT's layers ({@link FusedBertLayers}) against autograd through the
 * same layers ({@link Bert.Layer#forward}): the same model, batch (with padding) and dropout masks give the
 * same loss and the same gradient for every parameter, embeddings included, over two accumulated
 * micro-batches. The autograd side is a forward pass without a {@link StepGradients} scope, which
 * never takes the hand-written path.
 */
class FusedBertLayersTest {
    static final List<String> TEXTS = List.of("ok", "Forest fire near La Ronge Sask. Canada", "a short one",
            "13,000 people receive #wildfires evacuation orders in California");
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    static void requireKernels() {
        if ("true".equals(System.getenv("CI"))) {
            assertTrue(FusedKernels.available(), FusedKernels.unavailableReason());
        }
        Assumptions.assumeTrue(FusedKernels.available(), FusedKernels.unavailableReason());
    }

    static TransformerModel model(EncoderConfig enc) {
        ModelConfig cfg = ModelConfig.encoderOnly(enc).withClassifier(List.of("a", "b", "c"), ProblemType.SINGLE_LABEL,
                HeadConfig.standard(enc));
        TransformerModel m = TransformerModel.random(cfg, TINY.manager(), 7);
        m.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
        return m;
    }

    /** Loss of each micro-batch, then every parameter's gradient summed over them (tables' rows included). */
    record Run(double[] losses, Map<String, float[]> gradients, boolean handWritten) {
    }

    static Run run(TransformerModel m, boolean handWritten, int microBatches) {
        int pad = m.config().encoder().padTokenId();
        double[] losses = new double[microBatches];
        for (int s = 0; s < microBatches; s++) {
            try (NDManager batch = TINY.manager().newSubManager()) {
                StepGradients grads = handWritten ? new StepGradients() : null;
                EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), TEXTS.subList(s, TEXTS.size()), pad, 0)
                        .withStepGradients(grads);
                Functional.seed(11 + s); // the same dropout masks on both paths
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray loss = m.logits(in, true).logSoftmax(-1).get(":, 1").neg().mean();
                    losses[s] = loss.getFloat();
                    gc.backward(loss);
                }
                if (grads != null) {
                    grads.accumulate();
                }
            }
        }
        Map<String, float[]> out = new LinkedHashMap<>();
        boolean anyHand = false;
        try (NDManager read = TINY.manager().newSubManager()) {
            for (Param p : m.parameters().params().values()) {
                anyHand |= p.hasHandGradient();
                NDArray g = p.gradient();
                float[] dense = g == null ? new float[(int) p.numel()] : g.toFloatArray();
                if (g != null && !p.hasHandGradient()) {
                    g.attach(read);
                }
                if (p.rowGradient() != null) {
                    float[] rows = p.rowGradient().toDense();
                    for (int i = 0; i < dense.length; i++) {
                        dense[i] += rows[i];
                    }
                    p.rowGradient().clear();
                }
                p.dropGradient();
                out.put(p.name(), dense);
            }
        }
        return new Run(losses, out, anyHand);
    }

    static void assertSameGradients(EncoderConfig enc, double tolerance) {
        assertSameGradients(enc, tolerance, 1e-6);
    }

    /** With {@code tolerance} on gradients and {@code lossTolerance} on the losses. */
    static void assertSameGradients(EncoderConfig enc, double tolerance, double lossTolerance) {
        try (TransformerModel a = model(enc); TransformerModel b = model(enc)) {
            Run reference = run(a, false, 2);
            int before = ((ai.djl.ndarray.BaseNDManager) TINY.manager()).getManagedArrays().size();
            Run fused = run(b, true, 2);
            assertEquals(before, ((ai.djl.ndarray.BaseNDManager) TINY.manager()).getManagedArrays().size(),
                    "no handles left behind under the parameters' manager");
            assertFalse(reference.handWritten(), "the reference ran autograd");
            assertTrue(fused.handWritten(), "the hand-written path ran");
            for (int s = 0; s < 2; s++) {
                assertEquals(reference.losses()[s], fused.losses()[s], lossTolerance, "loss of micro-batch " + s);
            }
            double worst = 0;
            String where = "";
            double norm = 0;
            for (String k : reference.gradients().keySet()) {
                float[] x = reference.gradients().get(k);
                float[] y = fused.gradients().get(k);
                for (int i = 0; i < x.length; i++) {
                    double d = Math.abs(x[i] - y[i]);
                    norm = Math.max(norm, Math.abs(x[i]));
                    if (d > worst) {
                        worst = d;
                        where = k + "[" + i + "] " + x[i] + " vs " + y[i];
                    }
                }
            }
            assertTrue(norm > 1e-3, "gradients are not trivially zero: " + norm);
            assertTrue(worst < tolerance, enc.modelType() + ": gradients differ by " + worst + " at " + where);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "roberta", "electra"})
    void handWrittenBackwardGivesAutogradsGradients(String type) {
        requireKernels();
        assertSameGradients(TinyModels.of(type), 1e-5);
    }

    /**
     * Under bf16 both paths round the products' inputs to bf16, but in different places (the autograd layers
     * keep the feed-forward's inner activations in bf16), so they agree to bf16's precision, not bit for bit.
     */
    @Test
    void bf16ProductsGiveAutogradsBf16Gradients() {
        requireKernels();
        Assumptions.assumeTrue(org.finetune4j.nn.Precision.bf16Unsupported() == null, "bf16 is not native on this CPU");
        org.finetune4j.nn.Precision.force(org.finetune4j.nn.Precision.BF16);
        try {
            assertSameGradients(TinyModels.of("bert"), 3e-3, 3e-3);
        } finally {
            org.finetune4j.nn.Precision.force(org.finetune4j.nn.Precision.FP32);
        }
    }

    @Test
    void theTanhGeluAndNoDropoutAlsoMatch() {
        requireKernels();
        BertConfig t = (BertConfig) TinyModels.of("bert");
        assertSameGradients(new BertConfig(t.modelType(), t.vocabSize(), t.hiddenSize(), t.numLayers(), t.numHeads(),
                t.intermediateSize(), "gelu_new", 0.0, 0.0, t.maxPositionEmbeddings(), t.typeVocabSize(), t.initializerRange(),
                t.layerNormEps(), t.padTokenId(), t.classifierDropout()), 1e-5);
    }
}
