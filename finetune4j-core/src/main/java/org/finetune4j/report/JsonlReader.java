package org.finetune4j.report;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Reads a run's {@code metrics.jsonl}: one JSON object per line, the records of transformers' {@code log_history}. */
public final class JsonlReader {
    /**
     * Python's {@code json.dumps} writes a diverged loss as a bare {@code NaN} or {@code Infinity}, which
     * strict JSON forbids; they are read as the doubles they stand for.
     */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS) // two records on one line are an error
            .build();

    private JsonlReader() {
    }

    /**
     * @return one map per non-blank line, keys in file order; numbers are Integer, Long or Double
     * @throws MetricsFileException if the file is missing or unreadable, or a line is not one JSON object
     */
    public static List<Map<String, Object>> read(Path metricsJsonl) {
        List<Map<String, Object>> records = new ArrayList<>();
        int lineNo = 0;
        try (BufferedReader in = Files.newBufferedReader(metricsJsonl, StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (!line.isBlank()) {
                    records.add(parse(metricsJsonl, lineNo, line));
                }
            }
        } catch (NoSuchFileException e) {
            throw new MetricsFileException(metricsJsonl, 0, metricsJsonl + ": file not found. A training run writes "
                    + "metrics.jsonl in its output directory; check the path.", e);
        } catch (CharacterCodingException e) {
            throw new MetricsFileException(metricsJsonl, lineNo + 1, metricsJsonl + " line " + (lineNo + 1)
                    + ": not UTF-8 text; metrics.jsonl must be UTF-8 JSON lines.", e);
        } catch (IOException e) {
            throw new MetricsFileException(metricsJsonl, 0, "cannot read " + metricsJsonl + ": " + e.getMessage(), e);
        }
        return records;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parse(Path file, int lineNo, String line) {
        String where = file + " line " + lineNo;
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            JsonLocation at = e.getLocation();
            String column = at == null || at.getColumnNr() < 1 ? "" : ", column " + at.getColumnNr();
            throw new MetricsFileException(file, lineNo, where + column + ": not valid JSON (" + e.getOriginalMessage()
                    + "). Each line must be one JSON object; if the run stopped while writing this line, delete it.", e);
        }
        if (!node.isObject()) {
            throw new MetricsFileException(file, lineNo, where + ": expected a JSON object like {\"loss\": 0.61, \"step\": 50}, "
                    + "got " + node.getNodeType().toString().toLowerCase(Locale.ROOT), null);
        }
        return JSON.convertValue(node, LinkedHashMap.class);
    }
}
