package org.finetune4j.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.io.WeightFiles;
import org.finetune4j.testing.TinyModels;
import org.finetune4j.testing.TinyOnnx;
import org.finetune4j.testing.TinyOnnx.Spec;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxImporterTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TinyOnnx.Built TINY = TinyOnnx.bert(Spec.tiny());

    @TempDir
    Path tmp;
    Path onnx;
    Path tokenizer;

    @BeforeEach
    void files() throws IOException {
        onnx = tmp.resolve("in/model.onnx");
        Files.createDirectories(onnx.getParent());
        Files.write(onnx, TINY.bytes());
        TinyModels.writeTokenizer(tmp.resolve("in"));
        tokenizer = tmp.resolve("in/tokenizer.json");
    }

    @Test
    void writesACompleteHuggingFaceDirectory() throws Exception {
        Path out = tmp.resolve("out/tiny-bert");
        OnnxImporter.Imported imported = OnnxImporter.importFiles(onnx, tokenizer, out, false);

        assertEquals(out.toAbsolutePath().normalize(), imported.dir());
        assertEquals(List.of("README.md", "config.json", "model.safetensors", "special_tokens_map.json",
                "tokenizer.json", "tokenizer_config.json"), imported.files());
        assertEquals(List.of(), OnnxImporter.problems(out));

        Map<String, HostTensor> weights = SafeTensors.readFile(out.resolve(WeightFiles.SINGLE));
        assertEquals(TINY.expected().keySet(), weights.keySet());
        for (String key : TINY.expected().keySet()) {
            assertArrayEquals(TINY.expected().get(key), weights.get(key).toFloats(), key);
        }

        ModelConfig mc = ModelConfig.read(out);
        assertEquals("BertModel", mc.architecture());
        assertEquals(2, mc.encoder().numHeads());
        assertEquals(OnnxImporter.sha256(TINY.bytes()), mc.notes().get(OnnxImporter.NOTE_SHA256));
        assertEquals("file " + onnx.toAbsolutePath(), mc.notes().get(OnnxImporter.NOTE_SOURCE));
        assertTrue(mc.notes().get("import_pooler").contains("no pooler"), mc.notes().toString());
        assertTrue(mc.notes().get("import_weights").startsWith("12 Linear weights were stored [in, out]"));

        JsonNode tc = JSON.readTree(out.resolve("tokenizer_config.json").toFile());
        assertTrue(tc.get("do_lower_case").asBoolean());
        assertEquals(40, tc.get("model_max_length").asInt()); // the tiny model's max_position_embeddings
        assertEquals("BertTokenizer", tc.get("tokenizer_class").asText());
        assertEquals("[PAD]", tc.get("pad_token").asText());
        assertEquals("[CLS]", tc.get("cls_token").asText());
        assertArrayEquals(Files.readAllBytes(tokenizer), Files.readAllBytes(out.resolve("tokenizer.json")));

        String readme = Files.readString(out.resolve("README.md"));
        assertTrue(readme.contains(OnnxImporter.sha256(TINY.bytes())), readme);
        assertTrue(readme.contains("transposed"), readme);
        assertTrue(readme.contains("License"), readme);
        assertNoLeftovers(out.getParent());
    }

    @Test
    void refusesANonEmptyOutputUnlessReplacing() throws Exception {
        Path out = tmp.resolve("out");
        Files.createDirectories(out);
        Files.writeString(out.resolve("notes.txt"), "mine");
        CheckpointException e = assertThrows(CheckpointException.class, () -> OnnxImporter.importFiles(onnx, tokenizer, out, false));
        assertTrue(e.getMessage().startsWith(out + ": already exists and is not empty"), e.getMessage());
        assertTrue(Files.exists(out.resolve("notes.txt")));

        OnnxImporter.importFiles(onnx, tokenizer, out, true);
        assertFalse(Files.exists(out.resolve("notes.txt")), "replaced as a whole, not merged");
        assertEquals(List.of(), OnnxImporter.problems(out));
        assertNoLeftovers(tmp);

        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty);
        OnnxImporter.importFiles(onnx, tokenizer, empty, false); // an empty directory is fine
        assertEquals(List.of(), OnnxImporter.problems(empty));
    }

    @Test
    void aFailedImportLeavesNothingBehind() throws Exception {
        Path broken = tmp.resolve("in/broken.onnx");
        Files.write(broken, TinyOnnx.bert(Spec.tiny().dropping("encoder.layer.0.output.dense.bias")).bytes());
        Path out = tmp.resolve("out/model");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> OnnxImporter.importFiles(broken, tokenizer, out, false));
        assertTrue(e.getMessage().startsWith(broken + ": cannot import as a BERT encoder"), e.getMessage());
        assertFalse(Files.exists(out));
        if (Files.exists(out.getParent())) {
            assertNoLeftovers(out.getParent());
        }

        Path wrongTokenizer = tmp.resolve("in/not-a-tokenizer.json");
        Files.writeString(wrongTokenizer, "{\"version\": \"1.0\"}");
        e = assertThrows(CheckpointException.class, () -> OnnxImporter.importFiles(onnx, wrongTokenizer, out, false));
        assertTrue(e.getMessage().contains("not a tokenizers JSON file"), e.getMessage());
        assertFalse(Files.exists(out));
    }

    @Test
    void keepModeLeavesADirectoryThatAppearedMeanwhile() throws Exception {
        Path out = tmp.resolve("cache/model");
        OnnxImporter.importFiles(onnx, tokenizer, out, false);
        Files.writeString(out.resolve("marker.txt"), "first import");

        // A second importer that finishes after the first: its stage is discarded, the first import stays.
        OnnxModel model = OnnxModel.read(TINY.bytes(), onnx.toString());
        assertNull(OnnxImporter.write(model, Files.readAllBytes(tokenizer), OnnxImporter.Origin.ofFile(onnx, "x"), out,
                StagedDirectory.IfExists.KEEP));
        assertTrue(Files.exists(out.resolve("marker.txt")));
        assertNoLeftovers(out.getParent());
    }

    @Test
    void problemsFindsIncompleteDirectories() throws Exception {
        Path out = tmp.resolve("m");
        OnnxImporter.importFiles(onnx, tokenizer, out, false);
        Path weights = out.resolve(WeightFiles.SINGLE);
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 100);
        }
        List<String> problems = OnnxImporter.problems(out);
        assertEquals(1, problems.size(), problems.toString());
        assertTrue(problems.get(0).contains("invalid safetensors file"), problems.toString());

        Files.delete(weights);
        assertEquals(List.of("model.safetensors is missing"), OnnxImporter.problems(out));
        assertEquals(List.of(tmp.resolve("nowhere") + " is not a directory"), OnnxImporter.problems(tmp.resolve("nowhere")));
    }

    static void assertNoLeftovers(Path parent) throws IOException {
        try (Stream<Path> s = Files.list(parent)) {
            // Hidden names are staging and stale directories; the cache's lock file is the one expected hidden file.
            List<String> hidden = s.map(p -> p.getFileName().toString())
                    .filter(n -> n.startsWith(".") && !n.endsWith(".lock")).toList();
            assertEquals(List.of(), hidden, "no staging directories left in " + parent);
        }
    }
}
