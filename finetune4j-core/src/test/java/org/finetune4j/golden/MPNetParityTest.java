package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.finetune4j.config.MPNetConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.MPNet;
import org.finetune4j.models.Pooler;
import org.finetune4j.models.TokenLayout;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MPNetForSequenceClassification and all-mpnet-base-v2's mean pooling against transformers 4.37.2
 * (golden/mpnet-seqcls): relative-position buckets, position ids, hidden states, logits, loss, each row
 * alone, and our own save and load. Tolerance 1e-5 abs, the README's for this fixture.
 */
@NeedsSharedData
class MPNetParityTest {
    static final double TOL = 1e-5;

    @TempDir
    Path dir;

    @Test
    void relativePositionBucketsAndPositionIds() {
        Golden g = Golden.fixture("mpnet-seqcls");
        JsonNode table = g.json().get("relative_position_bucket_table");
        long[] distances = Golden.longs(table.get("key_minus_query"));
        long[] ours = new long[distances.length];
        for (int i = 0; i < distances.length; i++) {
            ours[i] = MPNet.relativePositionBucket((int) distances[i]);
        }
        g.assertExact("relative_position_bucket_table", Golden.longs(table.get("bucket")), ours);

        JsonNode rows = g.json().get("relative_position_buckets"); // (T, T), row = query
        int t = rows.size();
        long[] want = new long[t * t];
        long[] got = new long[t * t];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < t; j++) {
                want[i * t + j] = rows.get(i).get(j).asLong();
                got[i * t + j] = MPNet.relativePositionBucket(j - i);
            }
        }
        g.assertExact("relative_position_buckets", want, got);

        try (NDManager m = NDManager.newBaseManager()) {
            EncoderInput in = g.encoderInput(m);
            g.assertExact("position_ids", Golden.longMatrix(g.json().get("position_ids"), m).toLongArray(),
                    MPNet.positionIds(in.inputIds()).toLongArray());
        }
    }

    @Test
    void logitsLossAndHiddenStates() {
        Golden g = Golden.fixture("mpnet-seqcls");
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerModel.Loaded loaded = TransformerModel.load(g.dir(), m);
            try (TransformerModel model = loaded.model()) {
                assertTrue(loaded.report().clean(), loaded.report().summary());
                EncoderInput in = g.encoderInput(m);
                ForwardChecks.checkClassifier(g, model, in, TOL);
            }
        }
    }

    /** sentence-transformers' all-mpnet-base-v2: MPNetModel → mean over real tokens → L2 normalisation. */
    @Test
    void meanPooledSentenceEmbeddings() {
        Golden g = Golden.fixture("mpnet-seqcls");
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerModel.Loaded loaded = TransformerModel.fromPretrained(g.dir(), m, c -> ModelConfig.encoderOnly(c.encoder()),
                    true, 0);
            try (TransformerModel encoder = loaded.model()) {
                assertTrue(loaded.report().missing().isEmpty(), loaded.report().summary());
                EncoderInput in = g.encoderInput(m);
                NDArray pooled = Pooler.pool(Pooling.MEAN, encoder.encode(in, false), in.attentionMask()); // (B, H)
                g.assertClose("mean_pooled", pooled, TOL);
                g.assertClose("mean_pooled_normalized", Pooler.normalize(pooled), TOL);
            }
        }
    }

    @Test
    void saveAndLoadKeepTheLogitsBitForBit() {
        Golden g = Golden.fixture("mpnet-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            float[] before = model.logits(in, false).toFloatArray();
            model.save(dir);
            ForwardChecks.checkConfigKeepsEveryField(g, dir);
            try (TransformerModel back = TransformerModel.load(dir, m).model()) {
                assertEquals(model.config().encoder(), back.config().encoder());
                assertEquals(model.config().head(), back.config().head());
                assertEquals(model.parameters().params().keySet(), back.parameters().params().keySet());
                float[] after = back.logits(in, false).toFloatArray();
                assertArrayEquals(before, after, 0f);
                g.assertClose("logits after our save and load", g.tensor("logits").toFloats(), after, TOL);
            }
        }
    }

    /**
     * hidden_states_1, the first layer's output: the checkpoint loaded into a one-layer MPNet (layer 1's
     * weights left unused). The bias table is shared, so the one layer sees the same bias.
     */
    @Test
    void theFirstLayersOutput() {
        Golden g = Golden.fixture("mpnet-seqcls");
        try (NDManager m = NDManager.newBaseManager()) {
            TransformerModel.Loaded loaded = TransformerModel.fromPretrained(g.dir(), m, c -> {
                MPNetConfig e = (MPNetConfig) c.encoder();
                MPNetConfig one = new MPNetConfig(e.vocabSize(), e.hiddenSize(), 1, e.numHeads(), e.intermediateSize(),
                        e.hiddenAct(), e.hiddenDropout(), e.attentionDropout(), e.maxPositionEmbeddings(), e.initializerRange(),
                        e.layerNormEps(), e.relativeAttentionNumBuckets(), e.padTokenId(), e.bosTokenId(), e.eosTokenId());
                return new ModelConfig(one, c.labels(), c.problemType(), c.head(), null, c.notes(), c.preprocessing(), c.extra());
            }, false, 0);
            try (TransformerModel model = loaded.model()) {
                assertTrue(loaded.report().unexpected().stream().allMatch(k -> k.startsWith("mpnet.encoder.layer.1.")),
                        loaded.report().summary());
                EncoderInput in = g.encoderInput(m);
                g.assertClose("hidden_states_1", model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false)
                        .lastHiddenState(), TOL);
            }
        }
    }

    /** The padded training layout and the packed inference layout see the same relative bias. */
    @Test
    void paddedLayoutMatchesTooIncludingPaddedPositions() {
        Golden g = Golden.fixture("mpnet-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            NDArray h = model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false).lastHiddenState();
            g.assertClose("last_hidden_state", h, TOL);
        }
    }
}
