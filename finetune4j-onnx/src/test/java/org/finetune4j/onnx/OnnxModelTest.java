package org.finetune4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.onnx.OnnxModel.Node;
import org.finetune4j.onnx.OnnxModel.Tensor;
import org.finetune4j.testing.TinyOnnx;
import org.finetune4j.testing.TinyOnnx.Proto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
    private static final TinyOnnx.Built TINY = TinyOnnx.bert(TinyOnnx.Spec.tiny());

    @TempDir
    Path tmp;

    @Test
    void readsGraphInitializersAndIo() throws Exception {
        Path file = tmp.resolve("tiny.onnx");
        Files.write(file, TINY.bytes());
        OnnxModel m = OnnxModel.read(file);

        assertEquals(17, m.opsetVersion());
        assertEquals(8, m.irVersion());
        assertEquals("finetune4j-tests 1", m.producer());
        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), m.inputNames());
        assertEquals("last_hidden_state", m.outputs().get(0).name());
        assertArrayEquals(new long[] {-1, -1, 8}, m.outputs().get(0).dims());
        assertEquals(OnnxModel.FLOAT, m.outputs().get(0).elemType());
        assertEquals("Identity", m.nodes().get(m.nodes().size() - 1).opType());
        assertEquals(2, m.nodes().stream().filter(n -> n.opType().equals("Softmax")).count());

        // Values survive both encodings: float_data (odd keys) and raw_data (even keys) in TinyOnnx.
        for (String key : List.of("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                "encoder.layer.1.output.LayerNorm.bias")) {
            Tensor t = m.initializers().get(TINY.onnxNames().get(key));
            assertNotNull(t, key);
            assertArrayEquals(TINY.shapes().get(key), t.dims(), key);
            assertArrayEquals(TINY.expected().get(key), t.floats(), key);
        }
        Tensor positions = m.initializers().get("embeddings.position_ids");
        assertEquals(OnnxModel.INT64, positions.dataType());
        assertEquals(39, positions.longs()[39]);
    }

    @Test
    void constantsAttributesAndGraphIndex() throws Exception {
        OnnxModel m = OnnxModel.read(TINY.bytes(), "tiny");
        Node softmax = m.nodes().stream().filter(n -> n.opType().equals("Softmax")).findFirst().orElseThrow();
        assertEquals(-1, softmax.attribute("axis").i());
        Node transpose = m.consumers(m.producer(softmax.outputs().get(0)).outputs().get(0)).get(0);
        assertEquals("MatMul", transpose.opType());
        Node scale = m.producer(m.producer(softmax.input(0)).input(0));
        assertEquals("Div", scale.opType());
        assertEquals((float) Math.sqrt(4), m.constant(scale.input(1)).floats()[0]);
        Node reshape = m.nodes().stream().filter(n -> n.opType().equals("Reshape")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {0, 0, 2, 4}, m.constant(reshape.input(1)).longs());
        Node unsqueeze = m.nodes().stream().filter(n -> n.opType().equals("ReduceMean")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {-1}, unsqueeze.attribute("axes").ints());
    }

    @Test
    void truncatedFilesAreClearErrorsNamingTheFile() throws Exception {
        byte[] all = TINY.bytes();
        for (int cut : new int[] {1, 10, all.length / 3, all.length / 2, all.length - 1}) {
            Path file = tmp.resolve("cut-" + cut + ".onnx");
            Files.write(file, Arrays.copyOf(all, cut));
            CheckpointException e = assertThrows(CheckpointException.class, () -> OnnxModel.read(file), "cut at " + cut);
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        }
    }

    @Test
    void garbageTextAndEmptyFilesAreRefused() throws Exception {
        Random rnd = new Random(1);
        for (int i = 0; i < 20; i++) {
            byte[] garbage = new byte[1 + rnd.nextInt(5000)];
            rnd.nextBytes(garbage);
            Path file = tmp.resolve("garbage-" + i + ".onnx");
            Files.write(file, garbage);
            CheckpointException e = assertThrows(CheckpointException.class, () -> OnnxModel.read(file));
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        }
        Path text = tmp.resolve("model.onnx");
        Files.writeString(text, "{\"model_type\": \"bert\"}\n", StandardCharsets.UTF_8);
        CheckpointException e = assertThrows(CheckpointException.class, () -> OnnxModel.read(text));
        assertTrue(e.getMessage().startsWith(text + ": not"), e.getMessage());

        Path empty = tmp.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        e = assertThrows(CheckpointException.class, () -> OnnxModel.read(empty));
        assertTrue(e.getMessage().contains("no graph"), e.getMessage());

        Path absent = tmp.resolve("absent.onnx");
        e = assertThrows(CheckpointException.class, () -> OnnxModel.read(absent));
        assertTrue(e.getMessage().contains("file not found"), e.getMessage());
    }

    @Test
    void externalDataIsRefused() {
        // TensorProto with data_location = EXTERNAL (14 = 1) and an external_data entry (13)
        Proto tensor = new Proto().varint(1, 4).varint(2, TinyOnnx.FLOAT).string(8, "w")
                .message(13, new Proto().string(1, "location").string(2, "weights.bin")).varint(14, 1);
        Proto graph = new Proto().message(1, new Proto().string(1, "w").string(2, "y").string(4, "Identity"))
                .message(5, tensor);
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> OnnxModel.read(TinyOnnx.model(graph, 17), "ext.onnx"));
        assertTrue(e.getMessage().startsWith("ext.onnx: tensor \"w\" keeps its values in an external data file"),
                e.getMessage());
    }

    @Test
    void dataOfTheWrongLengthIsRefused() {
        Proto tensor = TinyOnnx.rawTensor("w", TinyOnnx.FLOAT, new long[] {3, 2}, new byte[20]);
        Proto graph = new Proto().message(1, new Proto().string(1, "w").string(2, "y").string(4, "Identity"))
                .message(5, tensor);
        CheckpointException e = assertThrows(CheckpointException.class, () -> OnnxModel.read(TinyOnnx.model(graph, 17), "short.onnx"));
        assertTrue(e.getMessage().contains("needs 24 bytes of data but holds 20"), e.getMessage());
    }
}
