package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;

/** MPNet's relative-position bias table trains, through exactly the buckets a batch's positions use. */
class MPNetRelativeBiasTest {

    @Test
    void theBiasTableGetsAGradientInTheRowsOfTheBucketsUsed() {
        try (NDManager m = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.random(TinyModels.classifier(TinyModels.mpnet(), List.of("a", "b")), m, 4)) {
            model.parameters().params().values().forEach(p -> p.array().setRequiresGradient(true));
            int t = 6;
            // Row 0 has no padding, so every distance up to 5 occurs between real tokens (padded queries and
            // keys pass no gradient to the table).
            long[] ids = {0, 17, 40, 99, 33, 2, 0, 55, 2, 1, 1, 1};
            long[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0};
            try (NDManager b = m.newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                EncoderInput in = new EncoderInput(b.create(ids, new Shape(2, t)), b.create(mask, new Shape(2, t)), null);
                gc.backward(model.logits(in, true).logSoftmax(-1).get(":, 0").neg().mean());
                NDArray g = model.parameters().get("mpnet.encoder.relative_attention_bias.weight").array().getGradient();
                g.attach(b);
                float[] grad = g.toFloatArray(); // (32, nh)
                int heads = TinyModels.mpnet().numHeads();
                Set<Integer> used = new HashSet<>();
                for (int i = 0; i < t; i++) {
                    for (int j = 0; j < t; j++) {
                        used.add(MPNet.relativePositionBucket(j - i));
                    }
                }
                assertEquals(Set.of(0, 1, 2, 3, 4, 5, 17, 18, 19, 20, 21), used);
                for (int bucket = 0; bucket < 32; bucket++) {
                    double norm = 0;
                    for (int h = 0; h < heads; h++) {
                        norm += Math.abs(grad[bucket * heads + h]);
                    }
                    assertEquals(used.contains(bucket), norm > 0, "bucket " + bucket + ": gradient " + norm);
                }
            }
        }
    }
}
