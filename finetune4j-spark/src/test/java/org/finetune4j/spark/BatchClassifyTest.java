package org.finetune4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.finetune4j.api.Prediction;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The spark-submit job in local mode: every input row once in the output, with TextClassifier's predictions. */
class BatchClassifyTest {
    @TempDir
    static Path tmp;
    static Path model;
    static List<String> texts;

    @BeforeAll
    static void setUp() {
        model = TinyModels.save(TinyModels.classifier(TinyModels.bert(), List.of("ham", "spam")), 17, tmp.resolve("model"));
        texts = new ArrayList<>(LocalSpark.sampleTexts());
        texts.set(5, "a \"quoted\" text, with a comma");
        LocalSpark.session();
    }

    @Test
    void csvInWithIdsAndProbabilities() throws Exception {
        Path csv = tmp.resolve("in.csv");
        StringBuilder b = new StringBuilder("id,text\n");
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            b.append("r").append(i).append(',').append(t == null ? "" : "\"" + t.replace("\"", "\"\"") + "\"").append('\n');
        }
        Files.writeString(csv, b);
        Path out = tmp.resolve("out-csv");
        assertEquals(0, BatchClassify.run("--model", model.toString(), "--input", csv.toString(), "--format", "csv",
                "--text-column", "text", "--id-column", "id", "--output", out.toString(), "--probabilities", "--partitions", "3"));
        List<Row> rows = LocalSpark.session().read().option("header", "true").option("escape", "\"").option("inferSchema", "true")
                .csv(out.toString()).collectAsList();
        assertEquals(List.of("id", "prediction", "score", "prob_ham", "prob_spam"),
                List.of(LocalSpark.session().read().option("header", "true").csv(out.toString()).columns()));
        check(rows);
    }

    @Test
    void jsonInParquetOutWithAllColumns() throws Exception {
        Path json = tmp.resolve("in.jsonl");
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            b.append("{\"id\":\"r").append(i).append("\",\"lang\":\"en\",\"body\":")
                    .append(t == null ? "null" : "\"" + t.replace("\"", "\\\"") + "\"").append("}\n");
        }
        Files.writeString(json, b);
        Path out = tmp.resolve("out-parquet");
        assertEquals(0, BatchClassify.run("--model", model.toString(), "--input", json.toString(), "--format", "json",
                "--text-column", "body", "--output", out.toString(), "--output-format", "parquet", "--probabilities"));
        var df = LocalSpark.session().read().parquet(out.toString());
        assertEquals(List.of("body", "id", "lang", "prediction", "score", "prob_ham", "prob_spam"), List.of(df.columns()));
        check(df.select("id", "prediction", "score", "prob_ham", "prob_spam").collectAsList());
    }

    @Test
    void badInputIsNamed() throws Exception {
        Path csv = tmp.resolve("bad.csv");
        Files.writeString(csv, "id,review\n1,hello\n");
        String missing = errors("--model", model.toString(), "--input", csv.toString(), "--format", "csv", "--output",
                tmp.resolve("never").toString());
        assertTrue(missing.contains("--text-column text: " + csv + " has no such column; its columns are [id, review]"), missing);
        String absent = errors("--model", model.toString(), "--input", tmp.resolve("nothing.csv").toString(), "--format", "csv",
                "--output", tmp.resolve("never").toString());
        assertTrue(absent.contains("does not exist"), absent);
        Files.createDirectories(tmp.resolve("taken"));
        String taken = errors("--model", model.toString(), "--input", csv.toString(), "--format", "csv", "--text-column",
                "review", "--output", tmp.resolve("taken").toString());
        assertTrue(taken.contains("already exists: choose another path, or give --overwrite"), taken);
        Path multi = TinyModels.save(org.finetune4j.config.ModelConfig.encoderOnly(TinyModels.bert()).withClassifier(
                List.of("a", "b"), org.finetune4j.config.ProblemType.MULTI_LABEL, org.finetune4j.config.HeadConfig.standard(
                        TinyModels.bert())), 3, tmp.resolve("multi"));
        String kind = errors("--model", multi.toString(), "--input", csv.toString(), "--format", "csv", "--text-column", "review",
                "--problem-type", "single_label", "--output", tmp.resolve("never").toString());
        assertTrue(kind.contains("is a multi-label classifier (labels [a, b]), but problemType is single_label"), kind);
        String noModel = errors("--model", tmp.resolve("no-model").toString(), "--input", csv.toString(), "--format", "csv",
                "--text-column", "review", "--output", tmp.resolve("never").toString());
        assertTrue(noModel.contains("the model path " + tmp.resolve("no-model") + " cannot be read on host"), noModel);
    }

    private static String errors(String... args) {
        StringWriter w = new StringWriter();
        assertEquals(2, BatchClassify.run(new PrintWriter(w, true), args));
        return w.toString();
    }

    /** Output rows (id, prediction, score, prob_ham, prob_spam) in any order: each input row once, as TextClassifier predicts. */
    private static void check(List<Row> rows) {
        assertEquals(texts.size(), rows.size());
        Map<String, Row> byId = new HashMap<>();
        for (Row r : rows) {
            assertNull(byId.put(r.getString(0), r), "duplicate id " + r.getString(0));
        }
        try (TextClassifier clf = TextClassifier.load(model)) {
            for (int i = 0; i < texts.size(); i++) {
                Row r = byId.get("r" + i);
                if (EmptyTextPolicy.isEmpty(texts.get(i))) {
                    assertNull(r.get(1), "row " + i);
                    continue;
                }
                Prediction p = clf.predict(texts.get(i));
                assertEquals(p.label(), r.getString(1), "row " + i);
                assertEquals(p.score(), ((Number) r.get(2)).doubleValue(), 1e-5);
                assertEquals(p.scores().get("ham"), ((Number) r.get(3)).doubleValue(), 1e-5);
                assertEquals(p.scores().get("spam"), ((Number) r.get(4)).doubleValue(), 1e-5);
            }
        }
    }
}
