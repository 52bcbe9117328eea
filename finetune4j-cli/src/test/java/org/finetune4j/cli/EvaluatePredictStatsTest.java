package org.finetune4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.testing.TinyModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * evaluate, predict and stats end to end: a tiny random BERT is fine-tuned by the train command (full
 * and LoRA) on a few dozen "the movie was good / bad" rows, then evaluated and run on other rows.
 */
class EvaluatePredictStatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] POSITIVE = {"good", "great", "excellent", "lovely", "superb", "wonderful", "nice", "fine"};
    private static final String[] NEGATIVE = {"bad", "awful", "terrible", "horrible", "poor", "dreadful", "nasty", "ugly"};
    private static final String[] FILLERS = {"the movie was", "honestly a", "what a", "it felt", "the food is", "service was"};

    @TempDir
    static Path dir;
    static Path base;
    static Path run;
    static Path loraRun;
    static Path evalCsv;

    /** 2n rows "id,text,label" of positive and negative phrases; ids start at {@code firstId}. */
    static Path writeCsv(String name, int n, int offset, int firstId) throws Exception {
        List<String> lines = new ArrayList<>();
        lines.add("id,text,label");
        for (int i = 0; i < n; i++) {
            String f = FILLERS[(i + offset) % FILLERS.length];
            lines.add((firstId + 2 * i) + "," + f + " " + POSITIVE[(i + offset) % POSITIVE.length] + ",pos");
            lines.add((firstId + 2 * i + 1) + "," + f + " " + NEGATIVE[(i + offset + 3) % NEGATIVE.length] + ",neg");
        }
        Path p = dir.resolve(name);
        Files.write(p, lines);
        return p;
    }

    @BeforeAll
    static void trainTinyClassifiers() throws Exception {
        base = TinyModels.save(ModelConfig.encoderOnly(TinyModels.bert()), 7, dir.resolve("base"));
        Path train = writeCsv("train.csv", 24, 0, 0);
        evalCsv = writeCsv("eval.csv", 10, 5, 1000);
        run = dir.resolve("run");
        loraRun = dir.resolve("lora-run");
        String[] common = {"--model", base.toString(), "--train", train.toString(), "--split", "0.75,0.25", "--max-length", "32",
                "--batch-size", "8", "--learning-rate", "2e-3", "--seed", "3", "--quiet",
                "--fold-whitespace"}; // a cleaning setting: saved in config.json, read back by evaluate and predict
        CliRun full = CliRun.of(concat(new String[] {"train", "--epochs", "3", "--output", run.toString()}, common));
        assertEquals(0, full.exitCode(), full.err());
        CliRun lora = CliRun.of(concat(new String[] {"train", "--epochs", "3", "--strategy", "lora", "--output", loraRun.toString()},
                common));
        assertEquals(0, lora.exitCode(), lora.err());
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static List<CSVRecord> readCsv(Path file) throws Exception {
        try (Reader r = Files.newBufferedReader(file)) {
            return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(r).getRecords();
        }
    }

    private static List<String> header(Path file) throws Exception {
        return List.of(Files.readAllLines(file).get(0).split(","));
    }

    /** The run's eval_results.json and evaluate's JSON on the same held-out rows agree, key for key. */
    private static void assertSameAsTraining(Path runDir, CliRun r) throws Exception {
        assertEquals(0, r.exitCode(), r.err());
        JsonNode got = JSON.readTree(r.out());
        JsonNode trained = JSON.readTree(runDir.resolve("eval_results.json").toFile());
        Set<String> expectedKeys = new TreeSet<>();
        trained.fieldNames().forEachRemaining(expectedKeys::add);
        expectedKeys.remove("epoch"); // a standalone evaluation does not know the training epoch
        Set<String> keys = new TreeSet<>();
        got.fieldNames().forEachRemaining(keys::add);
        assertEquals(expectedKeys, keys);
        for (String k : keys) {
            if (!k.equals("eval_runtime") && !k.equals("eval_samples_per_second")) {
                assertEquals(trained.get(k).asDouble(), got.get(k).asDouble(), 1e-5, k);
            }
        }
        for (String k : List.of("eval_loss", "eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_macro_f1",
                "eval_specificity", "eval_false_positive_rate", "eval_roc_auc")) {
            assertTrue(keys.contains(k), k);
        }
    }

    @Test
    void evaluateOnTheHeldOutSplitReproducesTheRunsEvalResults() throws Exception {
        assertSameAsTraining(run, CliRun.of("evaluate", "--model", run.toString(), "--held-out", "validation", "--json"));
    }

    @Test
    void evaluateWithAnAdapterReproducesTheLoraRun() throws Exception {
        assertTrue(Files.exists(loraRun.resolve("adapter_config.json")));
        JsonNode adapterConfig = JSON.readTree(loraRun.resolve("adapter_config.json").toFile());
        assertEquals(base.toString(), adapterConfig.get("base_model_name_or_path").asText(), "a local base, named as typed");
        assertFalse(adapterConfig.has("use_dora"), "PEFT before 0.9 refuses use_dora");
        for (Path d : List.of(run, loraRun)) {
            assertTrue(Files.isRegularFile(d.resolve("vocab.txt")), d + ": vocab.txt beside tokenizer.json, for the slow tokenizer");
        }
        assertSameAsTraining(loraRun, CliRun.of("evaluate", "--model", base.toString(), "--adapter", loraRun.toString(),
                "--held-out", "validation", "--json"));
    }

    @Test
    void evaluateMetricsEqualThoseComputedFromPredictOutput() throws Exception {
        Path preds = dir.resolve("metrics-preds.csv");
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--id-column", "id",
                "--output", preds.toString(), "--quiet");
        assertEquals(0, p.exitCode(), p.err());
        List<CSVRecord> gold = readCsv(evalCsv);
        List<CSVRecord> rows = readCsv(preds);
        assertEquals(gold.size(), rows.size());
        int tp = 0;
        int fp = 0;
        int fn = 0;
        int tn = 0;
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(gold.get(i).get("id"), rows.get(i).get("id"));
            boolean g = gold.get(i).get("label").equals("pos");
            boolean y = rows.get(i).get("label").equals("pos");
            tp += g && y ? 1 : 0;
            fp += !g && y ? 1 : 0;
            fn += g && !y ? 1 : 0;
            tn += !g && !y ? 1 : 0;
        }
        double n = rows.size();
        double precisionPos = tp / (double) Math.max(tp + fp, 1);
        double recallPos = tp / (double) Math.max(tp + fn, 1);
        double f1Pos = 2.0 * tp / Math.max(2 * tp + fp + fn, 1);
        double f1Neg = 2.0 * tn / Math.max(2 * tn + fn + fp, 1);

        CliRun e = CliRun.of("evaluate", "--model", run.toString(), "--data", evalCsv.toString(), "--json");
        assertEquals(0, e.exitCode(), e.err());
        JsonNode m = JSON.readTree(e.out());
        assertEquals((tp + tn) / n, m.get("eval_accuracy").asDouble(), 1e-12);
        assertEquals(f1Pos, m.get("eval_f1").asDouble(), 1e-12); // binary: the positive class (label id 1, "pos")
        assertEquals(precisionPos, m.get("eval_precision").asDouble(), 1e-12);
        assertEquals(recallPos, m.get("eval_recall").asDouble(), 1e-12);
        assertEquals((f1Pos + f1Neg) / 2, m.get("eval_macro_f1").asDouble(), 1e-12);
        assertEquals(tn / (double) Math.max(tn + fp, 1), m.get("eval_specificity").asDouble(), 1e-12);
        assertEquals(fp / (double) Math.max(tn + fp, 1), m.get("eval_false_positive_rate").asDouble(), 1e-12);
        assertTrue(m.get("eval_loss").asDouble() > 0);
    }

    @Test
    void evaluatePrintsTheReportAndWritesItWhenAsked() throws Exception {
        Path out = dir.resolve("eval-out");
        CliRun e = CliRun.of("evaluate", "--model", run.toString(), "--data", evalCsv.toString(), "--output-dir", out.toString(),
                "--quiet");
        assertEquals(0, e.exitCode(), e.err());
        for (String s : List.of("precision    recall  f1-score   support", "macro avg", "weighted avg", "accuracy",
                "true\\pred", "positive class: pos", "specificity: ", "false positive rate: ", "roc auc: ", "(20 examples)")) {
            assertTrue(e.out().contains(s), s + " in\n" + e.out());
        }
        assertTrue(Files.isRegularFile(out.resolve("classification_report.json")));
        JsonNode written = JSON.readTree(out.resolve("eval_results.json").toFile());
        assertTrue(written.has("eval_f1"));
        CliRun again = CliRun.of("evaluate", "--model", run.toString(), "--data", evalCsv.toString(), "--output-dir",
                out.toString(), "--quiet");
        assertEquals(2, again.exitCode());
        assertTrue(again.err().contains("already exists") && again.err().contains("--overwrite"), again.err());
    }

    /** --max-length 3 keeps [CLS] + one word + [SEP]: the prediction of that one word alone. */
    @Test
    void predictAndEvaluateTakeAnotherMaxLength() throws Exception {
        CliRun cut = CliRun.of("predict", "--model", run.toString(), "--max-length", "3", "--text", "honestly a superb one");
        CliRun word = CliRun.of("predict", "--model", run.toString(), "--text", "honestly");
        CliRun whole = CliRun.of("predict", "--model", run.toString(), "--text", "honestly a superb one");
        assertEquals(0, cut.exitCode(), cut.err());
        double cutScore = JSON.readTree(cut.out()).get("score").asDouble();
        assertEquals(JSON.readTree(word.out()).get("score").asDouble(), cutScore, 1e-6);
        assertTrue(Math.abs(JSON.readTree(whole.out()).get("score").asDouble() - cutScore) > 1e-6, "the cut must matter");

        CliRun tooLong = CliRun.of("evaluate", "--model", run.toString(), "--data", evalCsv.toString(), "--max-length", "100000");
        assertEquals(2, tooLong.exitCode(), tooLong.err());
        assertTrue(tooLong.err().contains("--max-length: max length 100000 is more than the"), tooLong.err());
    }

    @Test
    void predictWritesIdsLabelsScoresAndProbabilitiesThatSumToOne() throws Exception {
        Path preds = dir.resolve("probs.csv");
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--id-column", "id",
                "--output", preds.toString(), "--probabilities", "--quiet");
        assertEquals(0, p.exitCode(), p.err());
        assertEquals(List.of("id", "label", "score", "prob_neg", "prob_pos"), header(preds));
        List<CSVRecord> rows = readCsv(preds);
        assertEquals(20, rows.size());
        for (CSVRecord r : rows) {
            double neg = Double.parseDouble(r.get("prob_neg"));
            double pos = Double.parseDouble(r.get("prob_pos"));
            assertEquals(1.0, neg + pos, 1e-5);
            assertEquals(Double.parseDouble(r.get("prob_" + r.get("label"))), Double.parseDouble(r.get("score")), 1e-7);
        }
    }

    @Test
    void withoutAnIdColumnTheRowNumberIsTheId() throws Exception {
        Path preds = dir.resolve("rownum.csv");
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--output", preds.toString());
        assertEquals(0, p.exitCode(), p.err());
        assertTrue(p.err().contains("predict 100%") && !p.err().contains("eval"), "the bar is predict's: " + p.err());
        assertEquals(List.of("id", "label", "score"), header(preds));
        List<CSVRecord> rows = readCsv(preds);
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(Integer.toString(i), rows.get(i).get("id"));
        }
    }

    @Test
    void aSubmissionHasExactlyTheGivenColumns() throws Exception {
        Path sub = dir.resolve("submission.csv");
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--id-column", "id",
                "--output", sub.toString(), "--submission", "--submission-columns", "id,target", "--quiet");
        assertEquals(0, p.exitCode(), p.err());
        assertEquals(List.of("id", "target"), header(sub));
        List<CSVRecord> rows = readCsv(sub);
        List<CSVRecord> input = readCsv(evalCsv);
        assertEquals(input.size(), rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertEquals(2, rows.get(i).size());
            assertEquals(input.get(i).get("id"), rows.get(i).get("id"));
            assertTrue(Set.of("neg", "pos").contains(rows.get(i).get("target")));
        }
    }

    @Test
    void predictRefusesToOverwriteUnlessAsked() throws Exception {
        Path out = dir.resolve("existing.csv");
        Files.writeString(out, "keep me\n");
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--output", out.toString(),
                "--quiet");
        assertEquals(2, p.exitCode());
        assertTrue(p.err().contains(out + " already exists") && p.err().contains("--overwrite"), p.err());
        assertEquals("keep me\n", Files.readString(out));
        CliRun again = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--output", out.toString(),
                "--overwrite", "--quiet");
        assertEquals(0, again.exitCode(), again.err());
        assertEquals(20, readCsv(out).size());
        try (var files = Files.list(dir)) {
            assertFalse(files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left behind");
        }
    }

    @Test
    void predictInBf16GivesTheFp32ProbabilitiesUpToRoundingOrSaysWhyNot() throws Exception {
        Path fp32 = dir.resolve("preds-fp32.csv");
        Path bf16 = dir.resolve("preds-bf16.csv");
        try {
            for (String[] p : List.of(new String[] {"fp32", fp32.toString()}, new String[] {"bf16", bf16.toString()})) {
                CliRun r = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--id-column", "id",
                        "--output", p[1], "--probabilities", "--overwrite", "--quiet", "--precision", p[0]);
                assertEquals(0, r.exitCode(), r.err());
                String why = org.finetune4j.nn.Precision.bf16Unsupported();
                if (p[0].equals("bf16") && why != null) {
                    assertTrue(r.err().contains("warning: --precision bf16: " + why), r.err());
                }
            }
            List<CSVRecord> a = records(fp32);
            List<CSVRecord> b = records(bf16);
            assertEquals(a.size(), b.size());
            double worst = 0;
            for (int i = 0; i < a.size(); i++) {
                assertEquals(a.get(i).get("id"), b.get(i).get("id"));
                worst = Math.max(worst, Math.abs(Double.parseDouble(a.get(i).get("prob_pos")) - Double.parseDouble(b.get(i).get("prob_pos"))));
            }
            assertTrue(worst < 0.02, "bf16 moved a probability by " + worst);
        } finally {
            org.finetune4j.nn.Precision.use(org.finetune4j.nn.Precision.FP32); // the setting is process-wide
        }
    }

    @Test
    void anUnknownPrecisionIsAnErrorNamingTheChoices() {
        CliRun r = CliRun.of("predict", "--model", run.toString(), "--text", "ok", "--precision", "fp16");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("unknown precision 'fp16': use fp32 or bf16"), r.err());
    }

    private static List<CSVRecord> records(Path csv) throws Exception {
        try (Reader in = Files.newBufferedReader(csv)) {
            return CSVFormat.DEFAULT.builder().setHeader().setSkipHeaderRecord(true).build().parse(in).getRecords();
        }
    }

    @Test
    void predictTextPrintsOneJsonObjectPerText() throws Exception {
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--text", "the movie was good", "--text", "what a bad film");
        assertEquals(0, p.exitCode(), p.err());
        String[] lines = p.out().strip().split("\n");
        assertEquals(2, lines.length);
        for (String line : lines) {
            JsonNode j = JSON.readTree(line);
            assertTrue(Set.of("neg", "pos").contains(j.get("label").asText()));
            double sum = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = j.get("scores").fields(); it.hasNext(); ) {
                sum += it.next().getValue().asDouble();
            }
            assertEquals(1.0, sum, 1e-5);
            assertEquals(j.get("scores").get(j.get("label").asText()).asDouble(), j.get("score").asDouble(), 1e-12);
        }
    }

    @Test
    void aLabelTheModelNeverSawIsAnErrorListingTheModelsLabels() throws Exception {
        Path f = dir.resolve("unseen.csv");
        Files.write(f, List.of("id,text,label", "1,the movie was good,pos", "2,it was so so,meh"));
        CliRun e = CliRun.of("evaluate", "--model", run.toString(), "--data", f.toString());
        assertEquals(2, e.exitCode());
        assertTrue(e.err().contains("label 'meh'") && e.err().contains("line 3") && e.err().contains("neg, pos"), e.err());
        assertFalse(e.err().contains("\tat "), "no stack trace");
    }

    @Test
    void aMissingColumnIsAnErrorListingTheColumns() {
        CliRun e = CliRun.of("evaluate", "--model", run.toString(), "--data", evalCsv.toString(), "--label-column", "sentiment");
        assertEquals(2, e.exitCode());
        assertTrue(e.err().contains("no label column 'sentiment'") && e.err().contains("'id', 'text', 'label'"), e.err());
        CliRun p = CliRun.of("predict", "--model", run.toString(), "--data", evalCsv.toString(), "--text-column", "body",
                "--output", dir.resolve("never.csv").toString());
        assertEquals(2, p.exitCode());
        assertTrue(p.err().contains("no text column 'body'"), p.err());
        assertFalse(Files.exists(dir.resolve("never.csv")));
    }

    @Test
    void anEmptyFileIsAnError() throws Exception {
        Path f = dir.resolve("empty.csv");
        Files.write(f, List.of("id,text,label"));
        CliRun e = CliRun.of("evaluate", "--model", run.toString(), "--data", f.toString());
        assertEquals(2, e.exitCode());
        assertTrue(e.err().contains("no data rows"), e.err());
    }

    /** Five rows with hand-counted numbers: "word" is one token of the uncased vocabulary, plus [CLS] and [SEP]. */
    @Test
    void statsOfASmallFile() throws Exception {
        Path f = dir.resolve("stats.csv");
        Files.write(f, List.of("text,label", "word,a", "word word,a", "word word,b", "word word word word word word,a", "\"   \",b"));
        CliRun s = CliRun.of("stats", "--data", f.toString(), "--model", base.toString(), "--fold-whitespace", "--json");
        assertEquals(0, s.exitCode(), s.err());
        JsonNode j = JSON.readTree(s.out());
        assertEquals(5, j.get("rows").asInt());
        assertEquals(3, j.get("classes").get("a").get("count").asInt());
        assertEquals(60.0, j.get("classes").get("a").get("percent").asDouble(), 1e-9);
        assertEquals(40.0, j.get("classes").get("b").get("percent").asDouble(), 1e-9);
        assertEquals(1, j.get("duplicates").asInt());
        assertEquals(1, j.get("conflicting_texts").asInt());
        assertEquals(1, j.get("empty_texts").asInt()); // "   " folds to ""
        JsonNode t = j.get("tokens"); // lengths 3, 4, 4, 8, 2
        assertEquals(2, t.get("min").asInt());
        assertEquals(8, t.get("max").asInt());
        assertEquals(4.2, t.get("mean").asDouble(), 1e-12);
        assertEquals(4, t.get("mode").asInt());
        assertEquals(2, t.get("mode_count").asInt());
        assertEquals(4, t.get("p50").asInt());
        assertEquals(8, t.get("p90").asInt());
        assertEquals(8, t.get("p95").asInt());
        assertEquals(8, t.get("p99").asInt());
        assertEquals(2.2, j.get("words").get("mean").asDouble(), 1e-12); // 1 + 2 + 2 + 6 + 0 words
        assertEquals(64, j.get("model_max_length").asInt()); // the tiny BERT's positions
        assertEquals(8, j.get("suggested_max_length").asInt());

        CliRun text = CliRun.of("stats", "--data", f.toString(), "--model", base.toString(), "--fold-whitespace");
        assertEquals(0, text.exitCode(), text.err());
        for (String line : List.of("(5 examples)", "60.0 %", "min 2, max 8, mean 4.2, mode 4 (2 examples)",
                "p50 4, p90 8, p95 8, p99 8", "suggested max_length: 8", "empty texts: 1; duplicate texts: 1")) {
            assertTrue(text.out().contains(line), line + " in\n" + text.out());
        }
    }
}
