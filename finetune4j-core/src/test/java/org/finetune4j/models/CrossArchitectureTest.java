package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.HostTensor;
import org.finetune4j.nn.ParameterStore;
import org.finetune4j.testing.TestBatches;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * DistilBERT and RoBERTa checked without a downloaded checkpoint: a BERT's weights, renamed to the
 * other architecture's keys, must give the same hidden states. DistilBERT has no token types, so BERT's
 * token-type embedding 0 is folded into its word embeddings; RoBERTa's positions start at pad + 1, so
 * BERT's position table is shifted down by two rows.
 */
class CrossArchitectureTest {
    @RegisterExtension
    static final TinyModels.Fixture TINY = new TinyModels.Fixture();

    @Test
    void bertWeightsRenamedToDistilBertGiveTheSameHiddenStates() {
        BertConfig bc = TinyModels.bert();
        DistilBertConfig dc = TinyModels.distilbert(); // BERT's sizes, no token types
        try (NDManager batch = TINY.manager().newSubManager();
                TransformerModel bert = TINY.random(ModelConfig.encoderOnly(bc), 21);
                TransformerModel distil = TINY.random(ModelConfig.encoderOnly(dc), 99)) {
            Map<String, HostTensor> b = bert.parameters().stateDict(k -> true);
            ParameterStore d = distil.parameters();
            float[] word = b.get("embeddings.word_embeddings.weight").toFloats();
            float[] type0 = b.get("embeddings.token_type_embeddings.weight").toFloats(); // row 0 = first H values
            int h = bc.hiddenSize();
            for (int i = 0; i < word.length; i++) {
                word[i] += type0[i % h];
            }
            d.set("embeddings.word_embeddings.weight", HostTensor.ofFloats(word, bc.vocabSize(), h));
            d.set("embeddings.position_embeddings.weight", b.get("embeddings.position_embeddings.weight"));
            copy(b, d, "embeddings.LayerNorm.weight", "embeddings.LayerNorm.weight");
            copy(b, d, "embeddings.LayerNorm.bias", "embeddings.LayerNorm.bias");
            Map<String, String> names = Map.of("attention.self.query", "attention.q_lin", "attention.self.key", "attention.k_lin",
                    "attention.self.value", "attention.v_lin", "attention.output.dense", "attention.out_lin",
                    "attention.output.LayerNorm", "sa_layer_norm", "intermediate.dense", "ffn.lin1", "output.dense", "ffn.lin2",
                    "output.LayerNorm", "output_layer_norm");
            for (int l = 0; l < bc.numLayers(); l++) {
                for (var e : names.entrySet()) {
                    for (String s : List.of(".weight", ".bias")) {
                        copy(b, d, "encoder.layer." + l + "." + e.getKey() + s, "transformer.layer." + l + "." + e.getValue() + s);
                    }
                }
            }
            EncoderInput in = TestBatches.encode(batch, TINY.tokenizer(), ArchitecturesTest.TEXTS, 0, 0);
            EncoderInput noTypes = new EncoderInput(in.inputIds(), in.attentionMask(), null);
            NDArray hb = bert.encode(in, false).lastHiddenState();
            NDArray hd = distil.encode(noTypes, false).lastHiddenState();
            double diff = maxRealTokenDiff(hb, hd, TestBatches.lengths(TINY.tokenizer(), ArchitecturesTest.TEXTS));
            System.out.println("BERT vs DistilBERT (renamed weights): max abs diff " + diff);
            assertTrue(diff <= 1e-5, "max abs diff " + diff);
        }
    }

    @Test
    void bertWeightsRenamedToRobertaGiveTheSameHiddenStates() {
        BertConfig bc = TinyModels.bert();
        BertConfig rc = TinyModels.roberta(); // pad 1, positions 66 = 64 + pad + 1, one token type
        try (NDManager batch = TINY.manager().newSubManager();
                TransformerModel bert = TINY.random(ModelConfig.encoderOnly(bc), 21);
                TransformerModel roberta = TINY.random(ModelConfig.encoderOnly(rc), 99)) {
            Map<String, HostTensor> b = bert.parameters().stateDict(k -> true);
            ParameterStore r = roberta.parameters();
            int h = bc.hiddenSize();
            float[] pos = b.get("embeddings.position_embeddings.weight").toFloats();
            float[] shifted = new float[rc.maxPositionEmbeddings() * h];
            System.arraycopy(pos, 0, shifted, 2 * h, pos.length); // RoBERTa position p + 2 = BERT position p
            r.set("embeddings.position_embeddings.weight", HostTensor.ofFloats(shifted, rc.maxPositionEmbeddings(), h));
            float[] type0 = java.util.Arrays.copyOf(b.get("embeddings.token_type_embeddings.weight").toFloats(), h);
            r.set("embeddings.token_type_embeddings.weight", HostTensor.ofFloats(type0, 1, h));
            for (String k : r.params().keySet()) {
                if (!k.startsWith("embeddings.position_embeddings") && !k.startsWith("embeddings.token_type_embeddings")) {
                    copy(b, r, k, k);
                }
            }
            List<String> texts = ArchitecturesTest.TEXTS;
            EncoderInput inB = TestBatches.encode(batch, TINY.tokenizer(), texts, bc.padTokenId(), 0);
            EncoderInput inR = TestBatches.encode(batch, TINY.tokenizer(), texts, rc.padTokenId(), 0);
            NDArray hb = bert.encode(new EncoderInput(inB.inputIds(), inB.attentionMask(), null), false).lastHiddenState();
            NDArray hr = roberta.encode(new EncoderInput(inR.inputIds(), inR.attentionMask(), null), false).lastHiddenState();
            double diff = maxRealTokenDiff(hb, hr, TestBatches.lengths(TINY.tokenizer(), texts));
            System.out.println("BERT vs RoBERTa (renamed weights): max abs diff " + diff);
            assertTrue(diff <= 1e-5, "max abs diff " + diff);
        }
    }

    @Test
    void robertaPositionIdsSkipPadding() {
        try (NDManager m = TINY.manager().newSubManager()) {
            NDArray ids = m.create(new long[] {0, 5, 6, 2, 1, 1, 0, 7, 2, 1, 1, 1}, new ai.djl.ndarray.types.Shape(2, 6));
            long[] pos = Roberta.positionIds(ids, 1).toLongArray();
            // transformers' create_position_ids_from_input_ids: pad stays 1, real tokens count from 2.
            org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {2, 3, 4, 5, 1, 1, 2, 3, 4, 1, 1, 1}, pos);
        }
    }

    private static void copy(Map<String, HostTensor> from, ParameterStore to, String src, String dst) {
        to.set(dst, from.get(src));
    }

    private static double maxRealTokenDiff(NDArray a, NDArray b, int[] lengths) {
        double max = 0;
        for (int i = 0; i < lengths.length; i++) {
            String idx = i + ", :" + lengths[i] + ", :";
            max = Math.max(max, TestBatches.maxAbsDiff(a.get(idx), b.get(idx)));
        }
        return max;
    }
}
