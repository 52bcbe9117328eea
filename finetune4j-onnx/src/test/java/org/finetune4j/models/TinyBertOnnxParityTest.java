package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.nn.Param;
import org.finetune4j.onnx.BertOnnxMapping;
import org.finetune4j.onnx.OnnxImporter;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.testing.TinyOnnx;
import org.finetune4j.text.TextTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The importer end to end on a tiny random BERT graph: ONNX Runtime runs the graph, our encoder runs the
 * imported directory, and the two agree. Random weights at hidden 8 make a wrong mapping (a missing
 * transpose, swapped projections) show up as large differences, which real checkpoints can hide.
 */
class TinyBertOnnxParityTest {
    private static final List<String> TEXTS = List.of("Hi.", "The quick brown fox jumps over the lazy dog.",
            "A somewhat longer sentence, with punctuation; and several clauses that make it the longest of all four.",
            "Short one");

    @TempDir
    Path tmp;

    @Test
    void ourEncoderMatchesOnnxRuntimeOnTheImportedGraph() throws Exception {
        for (boolean layerNormOp : new boolean[] {false, true}) {
            TinyOnnx.Built built = TinyOnnx.bert(TinyOnnx.Spec.tiny().withLayerNormOp(layerNormOp, 1e-12f));
            Path onnx = tmp.resolve("tiny-" + layerNormOp + ".onnx");
            Files.write(onnx, built.bytes());
            TinyModels.writeTokenizer(tmp.resolve("tok"));
            Path dir = tmp.resolve("model-" + layerNormOp);
            OnnxImporter.importFiles(onnx, tmp.resolve("tok/tokenizer.json"), dir, false);

            OnnxParity.Batch batch;
            try (TextTokenizer tok = TextTokenizer.load(dir, 40)) {
                batch = OnnxParity.Batch.of(tok.encodeAll(TEXTS, null), 0, 0);
            }
            float[][][] expected;
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession session = env.createSession(built.bytes(), new OrtSession.SessionOptions())) {
                expected = OnnxParity.ort(session, batch);
            }
            try (NDManager manager = NDManager.newBaseManager();
                    TransformerModel model = TransformerModel.load(dir, manager).model()) {
                float[][][] actual = OnnxParity.ours(model, batch);
                double diff = OnnxParity.maxAbsDiff(expected, actual, batch.lengths());
                System.out.printf("tiny BERT (%s LayerNorm) vs ONNX Runtime: max abs diff %.3g over %d real tokens%n",
                        layerNormOp ? "LayerNormalization" : "decomposed", diff, java.util.Arrays.stream(batch.lengths()).sum());
                assertTrue(diff <= 1e-4, "max abs diff " + diff);
                assertTrue(maxAbs(expected) > 0.5, "the outputs are not trivially small");
            }
        }
    }

    /** House rule 2: the importer's key set is exactly the parameters our Bert registers, shape for shape. */
    @Test
    void expectedKeysAreTheParametersOfOurBert() {
        BertConfig c = TinyModels.bert();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (boolean pooler : new boolean[] {false, true}) {
                try (TransformerModel model = TransformerModel.build(ModelConfig.encoderOnly(c), manager, pooler)) {
                    Map<String, long[]> registered = new LinkedHashMap<>();
                    for (Param p : model.parameters().params().values()) {
                        registered.put(p.name(), p.shape().getShape());
                    }
                    Map<String, long[]> expected = BertOnnxMapping.expectedShapes(c, pooler);
                    assertEquals(List.copyOf(registered.keySet()), List.copyOf(expected.keySet()));
                    expected.forEach((k, shape) -> assertArrayEquals(shape, registered.get(k), k));
                }
            }
        }
    }

    private static double maxAbs(float[][][] x) {
        double m = 0;
        for (float[][] a : x) {
            for (float[] b : a) {
                for (float v : b) {
                    m = Math.max(m, Math.abs(v));
                }
            }
        }
        return m;
    }
}
