package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Arrays;
import org.finetune4j.config.DebertaV2Config;
import org.finetune4j.lora.Lora;
import org.finetune4j.models.DebertaInternals;
import org.finetune4j.models.DebertaV2;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DebertaV2ForSequenceClassification against transformers 4.37.2: the DeBERTa-v3 layout
 * (golden/deberta-v2-seqcls: log buckets, shared attention key, LayerNorm'd relative embeddings), the
 * older v2 layout (golden/deberta-v2-seqcls-v2style: no buckets, pos_key_proj / pos_query_proj,
 * absolute positions), and PEFT 0.8.2's LoRA adapter on the first (golden/peft-lora-deberta).
 */
@NeedsSharedData
class DebertaParityTest {
    /** The golden README's recommended tolerance for both model fixtures. */
    static final double TOL = 1e-5;
    /** ... and for the adapter (logits up to about 6.6). */
    static final double ADAPTER_TOL = 5e-5;

    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"deberta-v2-seqcls", "deberta-v2-seqcls-v2style"})
    void logitsHiddenStatesAndLoss(String fixture) {
        Golden g = Golden.fixture(fixture);
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            NDArray logits = model.logits(in, false); // (4, 3)
            g.assertClose("logits", logits, TOL);
            // Every position, padded ones included: XSoftmax gives padded queries all-zero attention.
            g.assertClose("last_hidden_state", model.encode(in, false).lastHiddenState(), TOL);
            // output_hidden_states and output_attentions (padded query rows of the attentions are all 0).
            DebertaInternals.Trace trace = DebertaInternals.trace(model, in);
            for (int i = 0; i < trace.hiddenStates().size(); i++) {
                g.assertClose("hidden_states_" + i, trace.hiddenStates().get(i), TOL);
            }
            for (int i = 0; i < trace.attentions().size(); i++) {
                g.assertClose("attentions_" + i, trace.attentions().get(i), TOL);
            }
            NDArray labels = m.create(Golden.longs(g.inputs().get("labels")));
            float loss = Losses.crossEntropy(logits, labels, null, 0).getFloat();
            g.assertClose("loss", Golden.f32(g.json().get("loss")), loss, TOL);
        }
    }

    /** Each row alone and unpadded gives what transformers gives for it (unpadded_*_i), and what the batch gives at its real positions. */
    @ParameterizedTest
    @ValueSource(strings = {"deberta-v2-seqcls", "deberta-v2-seqcls-v2style"})
    void paddingInvariance(String fixture) {
        Golden g = Golden.fixture(fixture);
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput batch = g.encoderInput(m);
            NDArray batchStates = model.encode(batch, false).lastHiddenState(); // (4, 12, H)
            long[] lengths = Golden.longs(g.inputs().get("lengths"));
            for (int i = 0; i < lengths.length; i++) {
                int len = (int) lengths[i];
                EncoderInput alone = new EncoderInput(batch.inputIds().get(i + ":" + (i + 1) + ", :" + len),
                        m.ones(new Shape(1, len), ai.djl.ndarray.types.DataType.INT64),
                        batch.tokenTypeIds().get(i + ":" + (i + 1) + ", :" + len));
                g.assertClose("unpadded_logits_" + i, model.logits(alone, false), TOL);
                NDArray states = model.encode(alone, false).lastHiddenState(); // (1, L, H)
                g.assertClose("unpadded_last_hidden_state_" + i, states, TOL);
                g.assertClose("batch_vs_alone_row_" + i, batchStates.get(i + ", :" + len + ", :").toFloatArray(),
                        states.get(0).toFloatArray(), TOL);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"deberta-v2-seqcls", "deberta-v2-seqcls-v2style"})
    void relativePositionBuckets(String fixture) {
        Golden g = Golden.fixture(fixture);
        DebertaV2Config c = (DebertaV2Config) org.finetune4j.config.ModelConfig.read(g.dir()).encoder();
        assertEquals(g.json().get("attention_span").asInt(), c.attentionSpan());
        JsonNode want = g.json().get("relative_position_buckets");
        long[] flat = new long[want.size() * want.size()];
        for (int i = 0; i < want.size(); i++) {
            System.arraycopy(Golden.longs(want.get(i)), 0, flat, i * want.size(), want.size());
        }
        g.assertExact("relative_position_buckets", flat,
                DebertaV2.relativePositionBuckets(want.size(), c.positionBuckets(), c.maxRelativePositions()));
    }

    /** HF's make_log_bucket_position over every relative position, for the fixture's (8, 64) and deberta-v3-base's (256, 512). */
    @Test
    void logBucketTables() {
        Golden g = Golden.fixture("deberta-v2-seqcls");
        for (JsonNode table : g.json().get("log_bucket_tables")) {
            int buckets = table.get("position_buckets").asInt();
            int max = table.get("max_relative_positions").asInt();
            long[] r = Golden.longs(table.get("relative_position"));
            long[] got = Arrays.stream(r).map(x -> DebertaV2.logBucket((int) x, buckets, max)).toArray();
            g.assertExact("log_bucket_table_" + buckets + "_" + max, Golden.longs(table.get("bucket")), got);
        }
    }

    /** Our save, then our load: the same logits, bit for bit, and a config that reads back the same. */
    @ParameterizedTest
    @ValueSource(strings = {"deberta-v2-seqcls", "deberta-v2-seqcls-v2style"})
    void saveLoadRoundTrip(String fixture) {
        Golden g = Golden.fixture(fixture);
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(g.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            float[] before = model.logits(in, false).toFloatArray();
            model.save(dir);
            TransformerModel.Loaded back = TransformerModel.load(dir, m);
            try (TransformerModel again = back.model()) {
                assertTrue(back.report().clean(), back.report().summary());
                assertEquals(model.config().encoder(), again.config().encoder());
                assertEquals(model.parameters().params().keySet(), again.parameters().params().keySet());
                assertArrayEquals(before, again.logits(in, false).toFloatArray(), 0f);
            }
        }
    }

    /**
     * PEFT's adapter (LoRA on query_proj and value_proj, the pooler in modules_to_save, the classifier
     * implicit) through Lora.load, the code behind --adapter. With share_att_key the LoRA on query_proj
     * also projects the relative embeddings (p2c), which the adapter-path logits check.
     */
    @Test
    void peftLoraAdapter() {
        Golden g = Golden.fixture("peft-lora-deberta");
        Golden base = Golden.fixture("deberta-v2-seqcls");
        try (NDManager m = NDManager.newBaseManager(); TransformerModel model = TransformerModel.load(base.dir(), m).model()) {
            EncoderInput in = g.encoderInput(m);
            g.assertClose("base_logits", model.logits(in, false), TOL);
            Lora lora = Lora.load(model, g.dir().resolve("adapter"));
            g.assertClose("scaling", g.json().get("scaling").asDouble(), lora.config().scale(), 0);
            g.assertClose("logits_with_adapter", model.logits(in, false), ADAPTER_TOL);
            String q = "deberta.encoder.layer.0.attention.self.query_proj";
            NDArray b = model.parameters().get(q + ".lora_B.weight").array();
            NDArray a = model.parameters().get(q + ".lora_A.weight").array();
            try (NDManager scratch = m.newSubManager()) {
                NDArray bb = b.duplicate();
                bb.attach(scratch);
                g.assertClose("lora_delta:" + q + ".weight", bb.matMul(a).mul(lora.config().scale()), ADAPTER_TOL);
            }
            lora.merge();
            g.assertClose("merged:" + q + ".weight", model.parameters().get(q + ".weight").array(), ADAPTER_TOL);
            g.assertClose("merged_logits", model.logits(in, false), ADAPTER_TOL);
        }
    }
}
