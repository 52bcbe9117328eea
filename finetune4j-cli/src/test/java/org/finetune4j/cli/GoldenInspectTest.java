package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.testing.SharedData;
import org.junit.jupiter.api.Test;

/**
 * {@code inspect} on every model folder of ../shared/golden (written by transformers' save_pretrained,
 * most without tokenizer files): each loads, and reports the architecture its config.json names.
 */
@NeedsSharedData
class GoldenInspectTest {

    @Test
    void inspectDescribesEveryGoldenModelFolder() throws Exception {
        Path golden = SharedData.require("golden");
        List<Path> models = new ArrayList<>();
        try (Stream<Path> s = Files.walk(golden, 3)) {
            s.filter(p -> Files.isRegularFile(p.resolve("config.json")) && Files.isRegularFile(p.resolve("model.safetensors")))
                    .sorted().forEach(models::add);
        }
        assertTrue(models.size() >= 15, "the golden folder's models: " + models);
        List<String> failures = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (Path m : models) {
            CliRun r = CliRun.of("inspect", "--model", m.toString(), "--json");
            if (r.exitCode() != 0) {
                failures.add(golden.relativize(m) + ": " + r.err().strip());
                continue;
            }
            JsonNode info = json.readTree(r.out());
            String architecture = json.readTree(m.resolve("config.json").toFile()).path("architectures").path(0).asText();
            assertEquals(architecture, info.get("architecture").asText(), m.toString());
            assertFalse(info.has("not_in_checkpoint"), m + ": every weight is in the checkpoint: " + info);
        }
        assertEquals(List.of(), failures);
    }
}
