package org.finetune4j.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportWriterTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    private static final Pattern DATA_URI = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"");

    @TempDir
    Path dir;

    @Test
    void binaryRunWritesEveryChartAsAValidPngOfTheDeclaredSize() throws IOException {
        ReportFiles files = ReportWriter.write(dir, SampleReports.binaryRun());

        assertEquals(dir.resolve("report.html"), files.html());
        assertEquals(List.of("loss.png", "learning_rate.png", "eval_metrics.png", "confusion_matrix.png", "roc.png", "pr.png"),
                files.charts().stream().map(p -> p.getFileName().toString()).toList());
        assertPng(dir.resolve("loss.png"), Charts.WIDTH, Charts.HEIGHT);
        assertPng(dir.resolve("learning_rate.png"), Charts.WIDTH, Charts.HEIGHT);
        assertPng(dir.resolve("eval_metrics.png"), Charts.WIDTH, Charts.HEIGHT);
        int cm = Charts.confusionSize(2);
        assertPng(dir.resolve("confusion_matrix.png"), cm, cm - 100);
        assertPng(dir.resolve("roc.png"), Charts.WIDTH, Charts.SQUARE_HEIGHT);
        assertPng(dir.resolve("pr.png"), Charts.WIDTH, Charts.SQUARE_HEIGHT);
    }

    @Test
    void htmlEmbedsEachChartAsADataUriIdenticalToItsFile() throws IOException {
        ReportFiles files = ReportWriter.write(dir, SampleReports.binaryRun());
        String html = Files.readString(files.html());

        List<byte[]> embedded = new ArrayList<>();
        Matcher m = DATA_URI.matcher(html);
        while (m.find()) {
            embedded.add(Base64.getDecoder().decode(m.group(1)));
        }
        assertEquals(files.charts().size(), embedded.size(), "one embedded image per chart file");
        for (int i = 0; i < embedded.size(); i++) {
            assertArrayEquals(Files.readAllBytes(files.charts().get(i)), embedded.get(i), files.charts().get(i) + " differs from its embedded copy");
            assertTrue(html.contains("<figcaption>" + files.charts().get(i).getFileName() + "</figcaption>"));
        }
    }

    @Test
    void htmlIsSelfContainedAndLoadsNothing() throws IOException {
        String html = Files.readString(ReportWriter.write(dir, SampleReports.binaryRun()).html());

        assertFalse(html.contains("http://") || html.contains("https://"), "no external URL");
        assertFalse(html.toLowerCase().contains("<script"), "no script element");
        assertFalse(html.toLowerCase().contains("<link"), "no linked style sheet or font");
        assertFalse(html.contains("@import") || html.contains("url("), "no resource loaded from CSS");
        Matcher src = Pattern.compile("src=\"([^\"]{0,30})").matcher(html);
        while (src.find()) {
            assertTrue(src.group(1).startsWith("data:image/png;base64,"), "image source " + src.group(1));
        }
        assertTrue(html.contains("<style>"), "inline CSS");
        assertTrue(html.contains("default-src 'none'"), "the page forbids loading anything by policy");
    }

    @Test
    void htmlShowsTheClassificationReportMetricsAndRunFacts() throws IOException {
        RunReport run = SampleReports.binaryRun();
        String html = Files.readString(ReportWriter.write(dir, run).html());

        // The classification report, verbatim apart from escaping.
        assertTrue(html.contains("<pre>" + Html.escape(run.classificationReport().stripTrailing()) + "</pre>"));
        assertTrue(html.contains("f1-score") && html.contains("weighted avg"));
        // The final metrics table: each key with its value, right-aligned.
        assertTrue(html.contains("<tr><td>eval_accuracy</td><td class=\"num\">0.8228</td></tr>"));
        assertTrue(html.contains("<tr><td>eval_loss</td><td class=\"num\">0.4105</td></tr>"));
        // One row per evaluation in the evaluations table, epoch and step first.
        assertTrue(html.contains("<tr><td class=\"num\">2</td><td class=\"num\">858</td>"));
        // Confusion counts as a table too.
        assertTrue(html.contains("<td class=\"num\"><b>358</b></td><td class=\"num\">59</td><td class=\"num\">417</td>"));
        // Header numbers, run facts, collapsed config.
        assertTrue(html.contains("<div class=\"k\">accuracy</div><div class=\"v\">0.8228</div>"));
        assertTrue(html.contains("<tr><th>peak RSS</th><td class=\"wrap\">1,912 MB</td></tr>"));
        assertTrue(html.contains("<details><summary>Show the training config"));
        assertTrue(html.contains("&quot;lr_scheduler_type&quot; : &quot;linear&quot;"));
    }

    @Test
    void userTextIsEscapedNeverRaw() throws IOException {
        String attack = SampleReports.SCRIPT;
        RunReport run = RunReport.builder("run <b>& co</b>")
                .modelId("model\"><img src=x onerror=alert(1)>")
                .labelNames(List.of("<i>neg</i>", "pos & more"))
                .confusionMatrix(new int[][] {{5, 1}, {2, 7}})
                .classificationReport("report " + attack)
                .misclassified(List.of(new Misclassified("please " + attack + " don't", "<i>neg</i>", "pos & more", 0.9)))
                .facts(Map.of("note " + attack, "value " + attack))
                .trainingConfig(Map.of("output_dir", attack))
                .build();
        String html = Files.readString(ReportWriter.write(dir, run).html());

        assertFalse(html.contains(attack), "the raw script element must never reach the page");
        assertFalse(html.toLowerCase().contains("<script"));
        assertFalse(html.contains("<img src=x"));
        assertFalse(html.contains("<i>neg</i>"));
        assertTrue(html.contains("please &lt;script&gt;alert(1)&lt;/script&gt; don&#39;t"), "the misclassified text, escaped");
        assertTrue(html.contains("<td>&lt;i&gt;neg&lt;/i&gt;</td><td>pos &amp; more</td>"), "label names, escaped");
        assertTrue(html.contains("<title>run &lt;b&gt;&amp; co&lt;/b&gt;</title>"));
        assertTrue(html.contains("model&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    }

    @Test
    void runWithoutValidationHasNoEvalChartAndSaysWhy() throws IOException {
        ReportFiles files = ReportWriter.write(dir, SampleReports.runWithoutValidation());
        String html = Files.readString(files.html());

        assertEquals(Set.of("loss.png", "learning_rate.png", "report.html"), fileNames(dir));
        assertTrue(html.contains("No validation metrics: the training log has no evaluation records"));
        assertTrue(html.contains("eval_strategy &quot;no&quot;"));
        assertTrue(html.contains("No confusion matrix was given"));
        assertFalse(html.contains("eval_metrics.png"));
        assertEquals(2, count(DATA_URI.matcher(html)));
        // The loss chart has the training loss only.
        assertPng(dir.resolve("loss.png"), Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void binaryRunHasRocAndPrChartsAndAThreeClassRunHasNone() throws IOException {
        Path binary = dir.resolve("binary");
        Path three = dir.resolve("three");
        ReportWriter.write(binary, SampleReports.binaryRun());
        ReportWriter.write(three, SampleReports.threeClassRun());

        assertTrue(fileNames(binary).containsAll(Set.of("roc.png", "pr.png")));
        assertTrue(Files.readString(binary.resolve("report.html")).contains("alt=\"ROC curve, AUC 0."));
        assertFalse(fileNames(three).contains("roc.png"));
        assertFalse(fileNames(three).contains("pr.png"));
        String html = Files.readString(three.resolve("report.html"));
        assertTrue(html.contains("ROC and precision-recall curves are drawn for binary tasks only; this task has 3 labels."));
        assertPng(three.resolve("confusion_matrix.png"), Charts.confusionSize(3), Charts.confusionSize(3) - 100);
    }

    @Test
    void misclassifiedExamplesAreListedMostConfidentFirstWithTheirScores() throws IOException {
        String html = Files.readString(ReportWriter.write(dir, SampleReports.binaryRun()).html());

        int first = html.indexOf("I&#39;m on fire today!");
        int second = html.indexOf("That concert was a total disaster");
        int last = html.indexOf("Emergency crews on scene");
        assertTrue(first > 0 && first < second && second < last, "sorted by score, descending");
        assertTrue(html.contains("<td class=\"num\">0.9712</td>"));
    }

    @Test
    void longTextsShowAPreviewAndTheFullTextBehindAToggle() throws IOException {
        String text = "word ".repeat(200) + "END";
        RunReport run = RunReport.builder("long").labelNames(List.of("a", "b"))
                .misclassified(List.of(new Misclassified(text, "a", "b", 0.7))).build();
        String html = Files.readString(ReportWriter.write(dir, run).html());

        assertTrue(html.contains("…<details><summary>full text</summary>" + text + "</details>"));
    }

    @Test
    void comparisonReportHasARowPerStrategyAndItsCharts() throws IOException {
        ComparisonReport comparison = SampleReports.comparison();
        ReportFiles files = ReportWriter.write(dir, comparison);
        String html = Files.readString(files.html());

        for (ComparisonReport.Row row : comparison.rows()) {
            assertEquals(1, count(Pattern.compile("<tr><th>" + row.strategy() + "</th>").matcher(html)), row.strategy());
        }
        assertEquals(1 + comparison.rows().size(), count(Pattern.compile("<tr>").matcher(html)), "header plus one row per strategy");
        assertTrue(html.contains("<tr><th>lora</th><td class=\"num\">740,356</td><td class=\"num\">1.09</td>"));
        // A frozen backbone's tiny share and head size keep their digits instead of rounding to 0.00.
        assertTrue(html.contains("<tr><th>frozen</th><td class=\"num\">1,538</td><td class=\"num\">0.0023</td>"));
        assertTrue(html.contains("<td class=\"num best\">0.01</td>"), "smallest saved size, in bold");
        assertTrue(html.contains("<td class=\"num best\">0.8228</td>"), "best accuracy in bold");
        assertEquals(List.of("comparison_quality.png", "comparison_time.png", "comparison_memory.png", "comparison_eval_loss.png"),
                files.charts().stream().map(p -> p.getFileName().toString()).toList());
        for (Path chart : files.charts()) {
            assertPng(chart, Charts.WIDTH, Charts.HEIGHT);
        }
        assertEquals(4, count(DATA_URI.matcher(html)));
    }

    @Test
    void comparisonWithoutCurvesOrPositiveF1SaysSo() throws IOException {
        ComparisonReport.Row row = ComparisonReport.Row.builder("full").trainableParams(10).trainablePercent(100)
                .wallTimeSeconds(1).trainSamplesPerSecond(2).peakRssMb(3).savedSizeMb(4).validationAccuracy(0.5).macroF1(0.4)
                .testMetrics(Map.of("test_accuracy", 0.45)).build();
        ReportFiles files = ReportWriter.write(dir, new ComparisonReport("c", null, null, List.of(row), null));
        String html = Files.readString(files.html());

        assertFalse(Files.exists(dir.resolve("comparison_eval_loss.png")));
        assertTrue(html.contains("No validation-loss curves were given"));
        assertTrue(html.contains("<th class=\"num\">test_accuracy</th>"));
        assertTrue(html.contains("<td class=\"num\">0.4500</td>"));
        assertTrue(html.contains("<td class=\"num\">—</td>"), "no positive-class F1 for this task");
    }

    @Test
    void rewritingADirectoryRemovesChartsTheNewReportDoesNotHave() throws IOException {
        ReportWriter.write(dir, SampleReports.binaryRun());
        assertTrue(Files.exists(dir.resolve("roc.png")));

        ReportWriter.write(dir, SampleReports.threeClassRun());

        assertEquals(Set.of("loss.png", "learning_rate.png", "eval_metrics.png", "confusion_matrix.png", "report.html"), fileNames(dir));
    }

    @Test
    void writingLeavesNoTemporaryFiles() throws IOException {
        ReportWriter.write(dir, SampleReports.binaryRun());
        ReportWriter.write(dir.resolve("c"), SampleReports.comparison());

        try (Stream<Path> all = Files.walk(dir)) {
            List<Path> leftovers = all.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
            assertEquals(List.of(), leftovers);
        }
    }

    @Test
    void manyLabelsGetALargerConfusionMatrixThatSpansThePage() throws IOException {
        int n = 12;
        List<String> labels = new ArrayList<>();
        int[][] cm = new int[n][n];
        for (int i = 0; i < n; i++) {
            labels.add("intent_" + i);
            for (int j = 0; j < n; j++) {
                cm[i][j] = i == j ? 90 + i : (i + j) % 4;
            }
        }
        RunReport run = RunReport.builder("intents").labelNames(labels).confusionMatrix(cm).build();
        String html = Files.readString(ReportWriter.write(dir, run).html());

        int size = Charts.confusionSize(n);
        assertTrue(size > Charts.WIDTH);
        assertPng(dir.resolve("confusion_matrix.png"), size, size - 100);
        assertTrue(html.contains("<figure class=\"wide\">"));
    }

    @Test
    void aRunWithOneLogRecordAndOneEvaluationStillCharts() throws IOException {
        List<Map<String, Object>> log = List.of(
                Map.of("loss", 0.69, "learning_rate", 5e-5, "epoch", 0.5, "step", 10),
                Map.of("eval_loss", 0.6, "eval_accuracy", 0.7, "epoch", 1.0, "step", 20));
        ReportFiles files = ReportWriter.write(dir, RunReport.builder("tiny").logHistory(log).build());

        assertEquals(3, files.charts().size());
        for (Path chart : files.charts()) {
            assertPng(chart, Charts.WIDTH, Charts.HEIGHT);
        }
    }

    @Test
    void nonFiniteLossesAreSkippedAndReported() throws IOException {
        List<Map<String, Object>> log = new ArrayList<>(SampleReports.threeEpochLog(false));
        log.add(Map.of("loss", Double.NaN, "learning_rate", 1e-6, "epoch", 3.0, "step", 1287));
        String html = Files.readString(ReportWriter.write(dir, RunReport.builder("nan").logHistory(log).build()).html());

        assertTrue(html.contains("1 logged &quot;loss&quot; value(s) were not finite (NaN or infinity) and are not drawn."));
        assertPng(dir.resolve("loss.png"), Charts.WIDTH, Charts.HEIGHT);
    }

    @Test
    void aReportFromAMetricsFileReadBack(@TempDir Path in) throws IOException {
        Path jsonl = in.resolve("metrics.jsonl");
        StringBuilder b = new StringBuilder();
        for (Map<String, Object> r : SampleReports.threeEpochLog(true)) {
            b.append(r.entrySet().stream().map(e -> "\"" + e.getKey() + "\": " + e.getValue()).collect(Collectors.joining(", ", "{", "}\n")));
        }
        Files.writeString(jsonl, b.toString());

        RunReport run = RunReport.builder("from file").logHistory(JsonlReader.read(jsonl)).build();
        ReportFiles files = ReportWriter.write(dir, run);

        assertEquals(List.of("loss.png", "learning_rate.png", "eval_metrics.png"),
                files.charts().stream().map(p -> p.getFileName().toString()).toList());
    }

    static void assertPng(Path file, int width, int height) throws IOException {
        assertTrue(Files.isRegularFile(file), file + " exists");
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(PNG_SIGNATURE, Arrays.copyOf(bytes, PNG_SIGNATURE.length), file + " starts with the PNG signature");
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
        assertNotNull(image, file + " decodes");
        assertEquals(width, image.getWidth(), file + " width");
        assertEquals(height, image.getHeight(), file + " height");
    }

    private static Set<String> fileNames(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    private static int count(Matcher m) {
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    @Test
    void theHeaderSaysWhatEachNumberIs() throws IOException {
        String html = Files.readString(ReportWriter.write(dir, SampleReports.binaryRunWithTestSet()).html());
        String header = html.substring(html.indexOf("<header>"), html.indexOf("</header>"));

        // The log's last training record is at step 1250 (every 50 steps), the run ended at 1287.
        assertTrue(hasCard(header, "final training loss", "last logged step 1,250"), header);
        assertTrue(hasCard(header, "epochs trained", "1,287 steps") && header.contains(">3</div>"), header);
        // Step 858 is the end of epoch 2: the validation numbers are that checkpoint's.
        assertTrue(hasCard(header, "best checkpoint", "step 858, the model evaluated here"), header);
        assertTrue(header.contains(">epoch 2</div>"), header);
        assertTrue(hasCard(header, "accuracy", "validation, best checkpoint (step 858)"), header);
        assertTrue(hasCard(header, "test accuracy", "test set, same model") && header.contains("0.8093"), header);
        String test = html.substring(html.indexOf("<section id=\"test\">"));
        test = test.substring(0, test.indexOf("</section>"));
        assertTrue(test.contains("<td>test_macro_f1</td><td class=\"num\">0.8012</td>"), test);
        assertTrue(html.contains("<a href=\"#test\">Test</a>"), "the navigation links the test section");
    }

    @Test
    void aRunWithoutATestSetSaysSo() throws IOException {
        String html = Files.readString(ReportWriter.write(dir, SampleReports.binaryRun()).html());
        assertTrue(html.contains("No test metrics: the run had no test set"), html);
        assertFalse(html.contains("<div class=\"k\">best checkpoint</div>"), "without the run's steps the header does not guess the best one");
        assertTrue(hasCard(html, "epochs trained", "1,287 steps"), "read from the log: the last evaluation is at step 1,287");
    }

    @Test
    void wideTablesScrollInTheirOwnBoxAndTheirHeadersWrap() throws IOException {
        String html = Files.readString(ReportWriter.write(dir, SampleReports.binaryRun()).html());
        int table = html.indexOf("<h3>Evaluations during training</h3>");
        assertTrue(html.startsWith("<h3>Evaluations during training</h3>\n<div class=\"scroll\"><table class=\"wide-head", table),
                html.substring(table, table + 200));
        assertTrue(html.contains("<th class=\"num\">validation loss</th>"));
        assertTrue(html.contains(".scroll { overflow-x: auto; }"));
    }

    @Test
    void aLegendOfManyMetricsGoesBesideThePlotAndAFewBelowIt() {
        List<String> keys = List.of("eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_macro_f1",
                "eval_macro_precision", "eval_macro_recall", "eval_weighted_f1", "eval_weighted_precision", "eval_weighted_recall");
        Map<String, Object> evaluation = new java.util.LinkedHashMap<>(Map.of("step", 1, "epoch", 1.0));
        keys.forEach(k -> evaluation.put(k, 0.8));
        LogHistory log = new LogHistory(List.of(evaluation));
        var many = Charts.evalMetrics(log.axis(), keys.stream().map(log::evalSeries).toList());
        assertEquals(org.knowm.xchart.style.Styler.LegendPosition.OutsideE, many.getStyler().getLegendPosition(),
                "ten names do not fit one row under a 540 px chart");
        var few = Charts.evalMetrics(log.axis(), keys.subList(0, 2).stream().map(log::evalSeries).toList());
        assertEquals(org.knowm.xchart.style.Styler.LegendPosition.OutsideS, few.getStyler().getLegendPosition());
    }

    /** Whether the page has a header card named {@code key} whose detail line is {@code detail}. */
    private static boolean hasCard(String html, String key, String detail) {
        return Pattern.compile("<div class=\"k\">" + Pattern.quote(key) + "</div><div class=\"v\">[^<]*</div><div class=\"d\">"
                + Pattern.quote(detail) + "</div>").matcher(html).find();
    }
}
