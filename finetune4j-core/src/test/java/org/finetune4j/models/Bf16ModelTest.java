package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.nn.Precision;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Whole models with bf16 linear layers: logits close to fp32's for every architecture, on the packed
 * (inference) and padded (training) layouts, and a training step's loss and gradients in fp32.
 */
class Bf16ModelTest {

    @AfterEach
    void backToFp32() {
        Precision.force(Precision.FP32);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bert", "distilbert", "roberta", "xlm-roberta", "electra", "mpnet", "albert"})
    void bf16LogitsStayCloseToFp32(String type, @TempDir Path tokDir) {
        TinyModels.writeTokenizer(tokDir);
        ModelConfig cfg = ArchitecturesTest.classifier(type);
        try (NDManager m = NDManager.newBaseManager(); TextTokenizer tok = TextTokenizer.load(tokDir, 0);
                TransformerModel model = TransformerModel.random(cfg, m, 9)) {
            EncoderInput in = TestBatches.encode(m, tok, TokenLayoutTest.TEXTS, cfg.encoder().padTokenId(), 0);
            for (boolean packed : new boolean[] {true, false}) { // inference packs; training keeps the padded batch
                Precision.force(Precision.FP32);
                float[] fp32 = (packed ? model.logits(in, false) : PaddedInference.logits(model, in)).toFloatArray();
                Precision.force(Precision.BF16);
                float[] bf16 = (packed ? model.logits(in, false) : PaddedInference.logits(model, in)).toFloatArray();
                double worst = 0;
                double scale = 0;
                for (int i = 0; i < fp32.length; i++) {
                    worst = Math.max(worst, Math.abs(fp32[i] - bf16[i]));
                    scale = Math.max(scale, Math.abs(fp32[i]));
                }
                assertTrue(worst > 0 && worst < 0.05 * Math.max(scale, 1e-3),
                        type + (packed ? " packed" : " padded") + ": bf16 logits differ from fp32 by " + worst + " (largest logit " + scale + ")");
                assertEquals(fp32.length, bf16.length);
            }
        }
    }

    @Test
    void aBf16TrainingStepLeavesFp32WeightsAndGradients(@TempDir Path tokDir) {
        TinyModels.writeTokenizer(tokDir);
        ModelConfig cfg = ArchitecturesTest.classifier("bert");
        try (NDManager m = NDManager.newBaseManager(); TextTokenizer tok = TextTokenizer.load(tokDir, 0);
                TransformerModel model = TransformerModel.random(cfg, m, 9)) {
            EncoderInput in = TestBatches.encode(m, tok, TokenLayoutTest.TEXTS, cfg.encoder().padTokenId(), 0);
            model.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
            Precision.force(Precision.BF16);
            try (ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
                gc.backward(model.logits(in, true).square().sum());
            }
            long withGradient = model.parameters().params().values().stream().filter(p -> {
                ai.djl.ndarray.NDArray g = p.array().getGradient();
                assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, g.getDataType(), p.name());
                assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, p.array().getDataType(), p.name());
                return g.abs().sum().getFloat() > 0;
            }).count();
            int all = model.parameters().params().size();
            assertTrue(withGradient > all / 2, withGradient + " of " + all
                    + " parameters got a gradient");
        }
    }
}
