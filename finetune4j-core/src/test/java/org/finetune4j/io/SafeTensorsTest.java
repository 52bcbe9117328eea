package org.finetune4j.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    private static Map<String, HostTensor> sample() {
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("a.weight", HostTensor.ofFloats(new float[] {1f, -2.5f, 3.25f, Float.MIN_VALUE, -0f, 1e30f}, 2, 3));
        t.put("a.bias", HostTensor.ofFloats(new float[] {0.125f, 7f}, 2));
        t.put("ids", HostTensor.ofLongs(new long[] {1, 2, 3}, 3));
        t.put("scalar", HostTensor.ofFloats(new float[] {42f}));
        return t;
    }

    @Test
    void roundTripIsBitIdenticalAndHeaderIsAligned() throws Exception {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of("format", "pt"));
        byte[] bytes = Files.readAllBytes(f);
        long headerLen = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes like the reference writer");
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        assertTrue(header.contains("\"__metadata__\":{\"format\":\"pt\"}"), header);
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(List.of("a.weight", "a.bias", "ids", "scalar"), List.copyOf(st.entries().keySet()));
            assertEquals("pt", st.metadata().get("format"));
            for (var e : sample().entrySet()) {
                assertTrue(e.getValue().sameAs(st.get(e.getKey())), e.getKey());
            }
            assertArrayEquals(new long[] {2, 3}, st.get("a.weight").shape());
            assertArrayEquals(new long[] {1, 2, 3}, st.get("ids").toLongs());
        }
        // Writing what was read gives the same file, byte for byte.
        Path g = dir.resolve("again.safetensors");
        SafeTensors.write(g, SafeTensors.readFile(f), Map.of("format", "pt"));
        assertArrayEquals(bytes, Files.readAllBytes(g));
    }

    @Test
    void shardedWritesIndexAndReadsBack() throws Exception {
        Map<String, HostTensor> t = sample();
        WeightFiles.write(dir, t, 16); // forces several shards
        assertTrue(Files.exists(dir.resolve(WeightFiles.INDEX)));
        assertTrue(Files.notExists(dir.resolve(WeightFiles.SINGLE)));
        try (WeightFiles w = WeightFiles.open(dir)) {
            assertEquals(t.keySet(), w.names());
            for (var e : t.entrySet()) {
                assertTrue(e.getValue().sameAs(w.get(e.getKey())), e.getKey());
            }
        }
        // Saving again unsharded removes the old shards, so the directory holds one checkpoint.
        WeightFiles.write(dir, t, WeightFiles.DEFAULT_MAX_SHARD_BYTES);
        try (var s = Files.list(dir)) {
            assertEquals(List.of(WeightFiles.SINGLE), s.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void truncatedFileIsAClearError() throws Exception {
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sample(), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length - 5));
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.open(cut));
        assertTrue(e.getMessage().contains("cut.safetensors") && e.getMessage().contains("truncated"), e.getMessage());

        Path tiny = dir.resolve("tiny.safetensors");
        Files.write(tiny, new byte[] {1, 2, 3});
        e = assertThrows(CheckpointException.class, () -> SafeTensors.open(tiny));
        assertTrue(e.getMessage().contains("too short"), e.getMessage());
    }

    @Test
    void lyingHeaderIsRejected() throws Exception {
        // Header length larger than the file.
        Path f = dir.resolve("huge.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(f, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.open(f));
        assertTrue(e.getMessage().contains("header claims"), e.getMessage());

        // Offsets that do not match the shape.
        assertLies("{\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,8]}}", 8, "claims shape [2, 2]");
        // Offsets beyond the data.
        assertLies("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "outside the data section");
        // Overlapping tensors.
        assertLies("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap or leave a gap");
        // Not JSON.
        assertLies("{not json", 0, "not valid JSON");
        // Unknown dtype.
        assertLies("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unsupported dtype");
    }

    private void assertLies(String header, int dataBytes, String expected) throws Exception {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = dir.resolve("lie.safetensors");
        Files.write(f, b.array());
        CheckpointException e = assertThrows(CheckpointException.class, () -> SafeTensors.open(f));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void reducedPrecisionIsConvertedInJava() {
        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        bf16.putShort((short) 0x3FC0).putShort((short) 0xC000).flip(); // 1.5, -2.0
        assertArrayEquals(new float[] {1.5f, -2f}, new HostTensor(DType.BF16, new long[] {2}, bf16).toFloats());
        ByteBuffer f16 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        f16.putShort((short) 0x3C00).putShort((short) 0xC100).putShort((short) 0x0001).flip(); // 1, -2.5, 2^-24
        assertArrayEquals(new float[] {1f, -2.5f, 0x1p-24f}, new HostTensor(DType.F16, new long[] {3}, f16).toFloats());
    }

    @Test
    void missingWeightsNameTheDirectoryContents() throws Exception {
        Files.writeString(dir.resolve("pytorch_model.bin"), "x");
        CheckpointException e = assertThrows(CheckpointException.class, () -> WeightFiles.open(dir));
        assertTrue(e.getMessage().contains("pytorch_model.bin") && e.getMessage().contains("safe_serialization"), e.getMessage());
    }
}
