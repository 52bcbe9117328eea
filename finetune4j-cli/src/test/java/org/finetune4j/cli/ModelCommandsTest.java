package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelCommandsTest {
    @TempDir
    static Path model;

    @BeforeAll
    static void tinyModel() {
        TinyModels.save(TinyModels.classifier(TinyModels.bert(), List.of("ham", "spam")), 1, model);
    }

    @Test
    void inspectDescribesTheModel() throws Exception {
        CliRun r = CliRun.of("inspect", "--model", model.toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("BertForSequenceClassification", j.get("architecture").asText());
        assertEquals(2, j.get("layers").asInt());
        assertEquals(32, j.get("hidden_size").asInt());
        assertEquals("[\"ham\",\"spam\"]", j.get("labels").toString());
        // 30522*32 + 64*32 + 2*32 + 2*32 embeddings; per layer 4*(32*32+32) + 2*2*32 + 32*37+37 + 37*32+32; pooler; head 2*32+2
        long emb = 30522L * 32 + 64 * 32 + 2 * 32 + 2 * 32;
        long layer = 4 * (32 * 32 + 32) + 2 * 2 * 32 + (32 * 37 + 37) + (37 * 32 + 32);
        long pooler = 32 * 32 + 32;
        long head = 2 * 32 + 2;
        assertEquals(emb + 2 * layer + pooler + head, j.get("parameters").asLong());
        assertEquals(head, j.get("parameters_head").asLong());
        assertEquals(30522, j.get("tokenizer_vocab").asInt());
    }

    /** As AutoModel.from_pretrained: weights without tokenizer files load; only text needs the tokenizer. */
    @Test
    void aModelWithoutTokenizerFilesIsInspectedAndOnlyTextCommandsAskForOne(@TempDir Path bare) throws Exception {
        for (String f : List.of("config.json", "model.safetensors")) {
            java.nio.file.Files.copy(model.resolve(f), bare.resolve(f));
        }
        CliRun r = CliRun.of("inspect", "--model", bare.toString(), "--json");
        assertEquals(0, r.exitCode(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("BertForSequenceClassification", j.get("architecture").asText());
        assertTrue(j.get("tokenizer").asText().startsWith("none (no tokenizer.json or vocab.txt"), j.toString());

        CliRun p = CliRun.of("predict", "--model", bare.toString(), "--text", "hello");
        assertEquals(2, p.exitCode(), p.err());
        assertTrue(p.err().contains("no tokenizer.json or vocab.txt, and this command reads text"), p.err());
    }

    @Test
    void encodePrintsOneNormalisedVectorPerText() throws Exception {
        CliRun r = CliRun.of("encode", "--model", model.toString(), "--pooling", "mean", "--normalize", "--text", "hello world",
                "a second, longer sentence to embed");
        assertEquals(0, r.exitCode(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(2, lines.length);
        for (String line : lines) {
            JsonNode v = new ObjectMapper().readTree(line);
            assertEquals(32, v.size());
            double norm = 0;
            for (JsonNode x : v) {
                norm += x.asDouble() * x.asDouble();
            }
            assertEquals(1.0, Math.sqrt(norm), 1e-5);
        }
    }

    @Test
    void aMissingModelIsAUserErrorNotAStackTrace() {
        CliRun r = CliRun.of("inspect", "--model", "/no/such/model");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("error: model \"/no/such/model\""), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace");
    }

    /** The build runs tests with HF_HUB_OFFLINE=1 and an empty cache (see the parent pom), so no request is made. */
    @Test
    void aHubIdGoesToTheHubCacheAndOfflineSaysWhatIsMissing() {
        CliRun r = CliRun.of("inspect", "--model", "acme/never-downloaded");
        assertEquals(2, r.exitCode(), r.err());
        assertTrue(r.err().startsWith("error: HF_HUB_OFFLINE is set and acme/never-downloaded is not in the Hugging Face"
                + " cache"), r.err());
        assertTrue(r.err().contains("models--acme--never-downloaded/refs/main"), r.err());
    }

    @Test
    void aHubIdThatWouldLeaveTheCacheIsRefused() {
        CliRun r = CliRun.of("inspect", "--model", "acme/../../etc");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("is not a Hugging Face repo id"), r.err());
        assertTrue(r.err().contains("[org/]name[@revision]"), r.err());
        assertTrue(!r.err().contains("\tat "), "no stack trace");
    }
}
