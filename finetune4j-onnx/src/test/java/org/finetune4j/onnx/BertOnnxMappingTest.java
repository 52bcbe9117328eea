package org.finetune4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.finetune4j.config.BertConfig;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.testing.TinyOnnx;
import org.finetune4j.testing.TinyOnnx.Spec;
import org.junit.jupiter.api.Test;

class BertOnnxMappingTest {

    private static BertOnnxMapping.Result map(TinyOnnx.Built built) {
        return BertOnnxMapping.read(OnnxModel.read(built.bytes(), "tiny.onnx"), 0);
    }

    @Test
    void mapsEveryKeyAndTransposesMatMulWeights() {
        TinyOnnx.Built built = TinyOnnx.bert(Spec.tiny());
        BertOnnxMapping.Result r = map(built);

        assertEquals(built.expected().keySet(), r.weights().keySet(), "exactly BertModel's keys, no pooler");
        assertEquals(BertOnnxMapping.expectedShapes(r.config(), false).keySet().stream().toList(),
                r.weights().keySet().stream().toList(), "in checkpoint order");
        for (Map.Entry<String, HostTensor> e : r.weights().entrySet()) {
            String key = e.getKey();
            assertArrayEquals(built.shapes().get(key), e.getValue().shape(), key);
            assertArrayEquals(built.expected().get(key), e.getValue().toFloats(), key); // exact: a copy, not arithmetic
        }
        // The six Linear weights per layer were anonymous [in, out] MatMul operands.
        assertEquals(12, r.transposed().size());
        assertTrue(r.transposed().contains("encoder.layer.1.intermediate.dense.weight"));
        assertTrue(built.onnxNames().get("encoder.layer.0.attention.self.query.weight").startsWith("onnx::MatMul_"));
        assertFalse(r.hasPooler());
        // A non-square weight proves the direction of the transpose: stored [8, 12], mapped [12, 8] = [out, in].
        assertArrayEquals(new long[] {12, 8}, r.weights().get("encoder.layer.0.intermediate.dense.weight").shape());
    }

    @Test
    void infersTheConfigFromShapesAndGraph() {
        BertOnnxMapping.Result r = map(TinyOnnx.bert(Spec.tiny()));
        BertConfig c = r.config();
        assertEquals("bert", c.modelType());
        assertEquals(30522, c.vocabSize());
        assertEquals(8, c.hiddenSize());
        assertEquals(2, c.numLayers());
        assertEquals(2, c.numHeads());
        assertEquals(12, c.intermediateSize());
        assertEquals(40, c.maxPositionEmbeddings());
        assertEquals(2, c.typeVocabSize());
        assertEquals(1e-12, c.layerNormEps());
        assertEquals("gelu", c.hiddenAct());
        String findings = String.join("; ", r.findings());
        assertTrue(findings.contains("num_attention_heads 2 from the Reshape"), findings);
        assertTrue(findings.contains("confirmed by the 1/sqrt(4) score scale"), findings);
        assertTrue(findings.contains("positions 0..39"), findings);
    }

    @Test
    void readsEpsilonFromLayerNormalizationNodesAndStripsTheBertPrefix() {
        BertOnnxMapping.Result r = map(TinyOnnx.bert(Spec.tiny().withLayerNormOp(true, 1e-5f).withPrefix("bert.")));
        assertEquals(1e-5, r.config().layerNormEps());
        assertTrue(r.weights().containsKey("embeddings.LayerNorm.weight"));
        assertTrue(r.weights().keySet().stream().noneMatch(k -> k.startsWith("bert.")));
        assertTrue(String.join(";", r.findings()).contains("LayerNormalization"));
    }

    @Test
    void namedLinearWeightsAreTransposedWhenTheyAreMatMulOperands() {
        TinyOnnx.Built built = TinyOnnx.bert(Spec.tiny().withNamedLinears().withPrefix("bert."));
        assertEquals("bert.encoder.layer.0.output.dense.weight", built.onnxNames().get("encoder.layer.0.output.dense.weight"));
        BertOnnxMapping.Result r = map(built);
        assertEquals(12, r.transposed().size());
        for (String key : built.expected().keySet()) {
            assertArrayEquals(built.expected().get(key), r.weights().get(key).toFloats(), key);
        }
    }

    @Test
    void aLinearWeightUsedByGemmIsRefusedNotGuessed() {
        // Y = Gemm(X, W, b): the layout depends on transB, which this importer does not interpret.
        TinyOnnx.Proto graph = new TinyOnnx.Proto()
                .message(1, new TinyOnnx.Proto().string(1, "x").string(1, "onnx::Gemm_1")
                        .string(1, "encoder.layer.0.attention.self.query.bias").string(2, "y").string(4, "Gemm"))
                .message(5, TinyOnnx.rawTensor("onnx::Gemm_1", TinyOnnx.FLOAT, new long[] {4, 4}, new byte[64]))
                .message(5, TinyOnnx.rawTensor("encoder.layer.0.attention.self.query.bias", TinyOnnx.FLOAT, new long[] {4},
                        new byte[16]));
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> BertOnnxMapping.read(OnnxModel.read(TinyOnnx.model(graph, 13), "gemm.onnx"), 0));
        assertTrue(e.getMessage().contains("onnx::Gemm_1 float[4, 4] (feeds Gemm)"), e.getMessage());
    }

    @Test
    void aMissingWeightIsAnErrorNamingIt() {
        TinyOnnx.Built built = TinyOnnx.bert(Spec.tiny().dropping("encoder.layer.1.output.LayerNorm.bias",
                "embeddings.token_type_embeddings.weight"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> map(built));
        String msg = e.getMessage();
        assertTrue(msg.startsWith("tiny.onnx: cannot import as a BERT encoder: missing 2 BertModel weights: "), msg);
        assertTrue(msg.contains("embeddings.token_type_embeddings.weight"), msg);
        assertTrue(msg.contains("encoder.layer.1.output.LayerNorm.bias"), msg);
    }

    @Test
    void aLinearWithoutANamedBiasIsReportedAsUnmapped() {
        TinyOnnx.Built built = TinyOnnx.bert(Spec.tiny().withAnonymousBiases("encoder.layer.0.attention.self.key.bias"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> map(built));
        String msg = e.getMessage();
        assertTrue(msg.contains("encoder.layer.0.attention.self.key.weight"), msg);
        assertTrue(msg.contains("encoder.layer.0.attention.self.key.bias"), msg);
        String weight = built.onnxNames().get("encoder.layer.0.attention.self.key.weight");
        String bias = built.onnxNames().get("encoder.layer.0.attention.self.key.bias");
        assertTrue(msg.contains("initializers that map to no BertModel weight: "), msg);
        assertTrue(msg.contains(weight + " float[8, 8] (feeds MatMul, whose output goes to [Add] but to no Add with a"
                + " named Linear bias)"), msg);
        assertTrue(msg.contains(bias + " float[8]"), msg);
    }

    @Test
    void expectedShapesFollowTheConfig() {
        BertConfig c = new BertConfig("bert", 100, 16, 3, 4, 64, "gelu", 0.1, 0.1, 32, 2, 0.02, 1e-12, 0, null);
        Map<String, long[]> shapes = BertOnnxMapping.expectedShapes(c, true);
        assertEquals(5 + 3 * 16 + 2, shapes.size());
        assertArrayEquals(new long[] {64, 16}, shapes.get("encoder.layer.2.intermediate.dense.weight"));
        assertArrayEquals(new long[] {16, 64}, shapes.get("encoder.layer.2.output.dense.weight"));
        assertArrayEquals(new long[] {16, 16}, shapes.get("pooler.dense.weight"));
        assertEquals(List.of("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight"),
                shapes.keySet().stream().limit(2).toList());
    }
}
