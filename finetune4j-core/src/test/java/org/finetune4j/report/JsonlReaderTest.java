package org.finetune4j.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonlReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsOneRecordPerLineInOrderWithKeysInFileOrder() throws IOException {
        Path f = write("""
                {"loss": 0.61, "grad_norm": 3.2, "learning_rate": 4.9e-05, "epoch": 0.12, "step": 50}

                {"eval_loss": 0.43, "eval_accuracy": 0.81, "epoch": 1.0, "step": 429}
                {"train_runtime": 372.4, "note": null, "nested": {"a": [1, 2]}}
                """);

        List<Map<String, Object>> records = JsonlReader.read(f);

        assertEquals(3, records.size(), "the blank line is skipped");
        assertEquals(List.of("loss", "grad_norm", "learning_rate", "epoch", "step"), List.copyOf(records.get(0).keySet()));
        assertEquals(0.61, records.get(0).get("loss"));
        assertEquals(4.9e-05, records.get(0).get("learning_rate"));
        assertEquals(50, records.get(0).get("step"));
        assertEquals(0.81, records.get(1).get("eval_accuracy"));
        assertTrue(records.get(2).containsKey("note") && records.get(2).get("note") == null);
    }

    @Test
    void readsPythonsNanAndInfinity() throws IOException {
        Path f = write("{\"loss\": NaN, \"step\": 1}\n{\"loss\": Infinity, \"step\": 2}\n");

        List<Map<String, Object>> records = JsonlReader.read(f);

        assertTrue(Double.isNaN((Double) records.get(0).get("loss")));
        assertEquals(Double.POSITIVE_INFINITY, records.get(1).get("loss"));
    }

    @Test
    void aMalformedLineIsReportedWithFileLineAndColumn() throws IOException {
        Path f = write("{\"loss\": 0.6, \"step\": 50}\n{\"loss\": 0.5, \"step\": 100}\n{\"loss\": 0.4, \"step\": \n");

        MetricsFileException e = assertThrows(MetricsFileException.class, () -> JsonlReader.read(f));

        assertEquals(f, e.file());
        assertEquals(3, e.line());
        assertTrue(e.getMessage().startsWith(f + " line 3"), e.getMessage());
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        assertTrue(e.getMessage().contains("delete it"), "says what to do: " + e.getMessage());
    }

    @Test
    void aLineThatIsNotAnObjectIsAnError() throws IOException {
        Path f = write("{\"loss\": 0.6}\n[0.5, 100]\n");

        MetricsFileException e = assertThrows(MetricsFileException.class, () -> JsonlReader.read(f));

        assertEquals(2, e.line());
        assertTrue(e.getMessage().contains("line 2: expected a JSON object"), e.getMessage());
        assertTrue(e.getMessage().contains("got array"), e.getMessage());
    }

    @Test
    void twoRecordsOnOneLineAreAnError() throws IOException {
        Path f = write("{\"loss\": 0.6} {\"loss\": 0.5}\n");

        MetricsFileException e = assertThrows(MetricsFileException.class, () -> JsonlReader.read(f));

        assertEquals(1, e.line());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void aMissingFileSaysWhereTheRunWritesIt() {
        Path missing = dir.resolve("nope/metrics.jsonl");

        MetricsFileException e = assertThrows(MetricsFileException.class, () -> JsonlReader.read(missing));

        assertEquals(0, e.line());
        assertTrue(e.getMessage().contains(missing + ": file not found"), e.getMessage());
    }

    @Test
    void anEmptyFileHasNoRecords() throws IOException {
        assertEquals(List.of(), JsonlReader.read(write("")));
    }

    private Path write(String content) throws IOException {
        Path f = dir.resolve("metrics.jsonl");
        Files.writeString(f, content);
        return f;
    }
}
