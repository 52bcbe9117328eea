package org.finetune4j.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.finetune4j.io.AtomicFiles;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * Writes a training or comparison report into a directory: {@code report.html}, which embeds every
 * chart and opens offline, and the same charts as PNG files beside it. A chart whose data is absent
 * is left out and the page says why. Every file is written atomically (temporary file, then rename),
 * charts first and the page last; chart files of an earlier report that this one does not have are
 * removed, so the directory never mixes two runs' charts.
 */
public final class ReportWriter {
    public static final String HTML = "report.html";
    public static final String LOSS = "loss.png";
    public static final String LEARNING_RATE = "learning_rate.png";
    public static final String EVAL_METRICS = "eval_metrics.png";
    public static final String CONFUSION_MATRIX = "confusion_matrix.png";
    public static final String ROC = "roc.png";
    public static final String PR = "pr.png";
    public static final String COMPARISON_QUALITY = "comparison_quality.png";
    public static final String COMPARISON_TIME = "comparison_time.png";
    public static final String COMPARISON_MEMORY = "comparison_memory.png";
    public static final String COMPARISON_EVAL_LOSS = "comparison_eval_loss.png";
    public static final String TUNE_OBJECTIVE = "tune_objective.png";
    public static final String TUNE_CURVES = "tune_intermediate.png";
    /** One scatter per parameter: tune_param_&lt;name&gt;.png. */
    public static final String TUNE_PARAM_PREFIX = "tune_param_";

    private static final List<String> RUN_CHARTS = List.of(LOSS, LEARNING_RATE, EVAL_METRICS, CONFUSION_MATRIX, ROC, PR);
    private static final List<String> COMPARISON_CHARTS =
            List.of(COMPARISON_QUALITY, COMPARISON_TIME, COMPARISON_MEMORY, COMPARISON_EVAL_LOSS);
    /** Longer misclassified texts show this many characters, with the rest behind a "full text" toggle. */
    private static final int TEXT_PREVIEW = 400;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private ReportWriter() {
    }

    private record Figure(String file, String alt, byte[] png, int width, int height) {
        static Figure of(String file, String alt, Chart<?, ?> chart) {
            return new Figure(file, alt, Charts.png(chart), chart.getWidth(), chart.getHeight());
        }

        String html() {
            return Html.figure(file, alt, png, width, height);
        }
    }

    // ---- one training run -------------------------------------------------------------------------

    public static ReportFiles write(Path dir, RunReport r) {
        LogHistory log = new LogHistory(r.logHistory());
        Page page = new Page();
        trainingSection(page, log);
        validationSection(page, log, r.finalMetrics());
        testSection(page, r.testMetrics());
        confusionSection(page, r);
        curvesSection(page, r);
        errorsSection(page, r.misclassified());
        if (!r.facts().isEmpty()) {
            page.section("run", "Run facts", "Run");
            StringBuilder t = new StringBuilder("<table>\n");
            r.facts().forEach((k, v) -> t.append("<tr><th>").append(Html.escape(k)).append("</th><td class=\"wrap\">")
                    .append(Html.escape(v)).append("</td></tr>\n"));
            page.raw(t.append("</table>\n").toString());
            page.end();
        }
        if (!r.trainingConfig().isEmpty()) {
            page.section("config", "Training config", "Config");
            page.raw("<details><summary>Show the training config (" + r.trainingConfig().size() + " settings)</summary>\n<pre>"
                    + Html.escape(json(r.trainingConfig())) + "</pre></details>\n");
            page.end();
        }
        String html = Html.page(r.title(), runHeader(r, log), page.nav(), page.body());
        return writeAll(dir, page.figures(), RUN_CHARTS, html);
    }

    /** Training loss (with the validation loss as a second series) and learning rate over the run. */
    private static void trainingSection(Page page, LogHistory log) {
        LogHistory.Series trainLoss = log.trainingSeries("loss");
        LogHistory.Series evalLoss = log.evalSeries("eval_loss");
        LogHistory.Series lr = log.trainingSeries("learning_rate");
        page.section("training", "Training");
        page.gridStart();
        if (!trainLoss.isEmpty() || !evalLoss.isEmpty()) {
            page.figure(LOSS, "Training and validation loss over " + log.axis() + "s", Charts.loss(log.axis(), trainLoss, evalLoss));
        }
        if (!lr.isEmpty()) {
            page.figure(LEARNING_RATE, "Learning rate over " + log.axis() + "s", Charts.learningRate(log.axis(), lr));
        }
        page.gridEnd();
        if (trainLoss.isEmpty() && evalLoss.isEmpty()) {
            page.note("No loss chart: no record of the training log has a \"loss\" or \"eval_loss\" value.");
        } else if (trainLoss.isEmpty()) {
            page.note("No training loss was logged (no record has a \"loss\" value); the loss chart shows the validation loss only.");
        }
        if (lr.isEmpty()) {
            page.note("No learning-rate chart: no training record of the log has a \"learning_rate\" value.");
        }
        for (LogHistory.Series s : List.of(trainLoss, evalLoss, lr)) {
            if (s.nonFinite() > 0) {
                page.note(s.nonFinite() + " logged \"" + s.key() + "\" value(s) were not finite (NaN or infinity) and are not drawn.");
            }
        }
        page.end();
    }

    /** Metrics per evaluation as a chart and a table, beside the final metrics. */
    private static void validationSection(Page page, LogHistory log, Map<String, Double> finalMetrics) {
        page.section("validation", "Validation");
        if (log.evaluations().isEmpty()) {
            page.note("No validation metrics: the training log has no evaluation records (eval_* values), so there is "
                    + "no validation-metrics chart. The run was trained without a validation set, or with eval_strategy \"no\".");
        }
        List<LogHistory.Series> metrics = log.fractionMetrics().stream().map(log::evalSeries).toList();
        if (!metrics.isEmpty() || !finalMetrics.isEmpty()) {
            page.gridStart();
            if (!metrics.isEmpty()) {
                page.figure(EVAL_METRICS, "Validation metrics over " + log.axis() + "s", Charts.evalMetrics(log.axis(), metrics));
            }
            page.raw("<div>\n<h3>Final metrics</h3>\n" + finalMetricsTable(finalMetrics) + "</div>\n");
            page.gridEnd();
        }
        if (!log.evaluations().isEmpty()) {
            if (metrics.isEmpty()) {
                page.note("The evaluations logged no metric in [0, 1], only the loss (on the loss chart), so there is no validation-metrics chart.");
            }
            page.raw("<h3>Evaluations during training</h3>\n" + evaluationsTable(log));
        }
        page.end();
    }

    /** The test set's metrics (test_results.json), or a note that the run had none. */
    private static void testSection(Page page, Map<String, Double> testMetrics) {
        page.section("test", "Test");
        if (testMetrics.isEmpty()) {
            page.note("No test metrics: the run had no test set (no test_results.json).");
        } else {
            page.raw("<p>The saved model on the held-out test set, evaluated once after training (test_results.json).</p>\n"
                    + metricsTable(testMetrics));
        }
        page.end();
    }

    /** The confusion matrix as a heat map and as counts, and the classification report. */
    private static void confusionSection(Page page, RunReport r) {
        int[][] cm = r.confusionMatrix();
        boolean report = r.classificationReport() != null && !r.classificationReport().isBlank();
        page.section("confusion", "Confusion matrix and classification report", "Confusion matrix");
        if (cm == null) {
            page.note("No confusion matrix was given (a run without a validation set has none).");
        }
        if (!report) {
            page.note("No classification report was given.");
        }
        if (cm != null || report) {
            page.gridStart();
            if (cm != null) {
                page.figure(CONFUSION_MATRIX, "Confusion matrix heat map: true labels by row, predicted labels by column",
                        Charts.confusionMatrix(r.labelNames(), cm));
            }
            page.raw("<div>\n" + (cm == null ? "" : confusionTable(r.labelNames(), cm))
                    + (report ? "<pre>" + Html.escape(r.classificationReport().stripTrailing()) + "</pre>\n" : "") + "</div>\n");
            page.gridEnd();
        }
        page.end();
    }

    /** Binary tasks: ROC and precision-recall curves. */
    private static void curvesSection(Page page, RunReport r) {
        page.section("curves", "ROC and precision-recall curves", "ROC / PR");
        if (r.roc() == null && r.precisionRecall() == null) {
            int labels = r.labelNames().size();
            page.note(labels > 2
                    ? "ROC and precision-recall curves are drawn for binary tasks only; this task has " + labels + " labels."
                    : "No ROC or precision-recall curve was given.");
        } else {
            page.gridStart();
            if (r.roc() != null) {
                page.figure(ROC, String.format(Locale.ROOT, "ROC curve, AUC %.3f", r.roc().auc()), Charts.roc(r.roc()));
            }
            if (r.precisionRecall() != null) {
                page.figure(PR, String.format(Locale.ROOT, "Precision-recall curve, average precision %.3f",
                        r.precisionRecall().averagePrecision()), Charts.precisionRecall(r.precisionRecall(), positiveRate(r.confusionMatrix())));
            }
            page.gridEnd();
        }
        page.end();
    }

    private static void errorsSection(Page page, List<Misclassified> misclassified) {
        page.section("errors", "Top misclassified validation examples", "Misclassified");
        if (misclassified.isEmpty()) {
            page.note("No misclassified examples were given.");
        } else {
            page.raw(misclassifiedTable(misclassified));
        }
        page.end();
    }

    private static String finalMetricsTable(Map<String, Double> metrics) {
        if (metrics.isEmpty()) {
            return Html.note("No final metrics (eval_results.json) were given.");
        }
        return metricsTable(metrics);
    }

    private static String metricsTable(Map<String, Double> metrics) {
        StringBuilder t = new StringBuilder("<table>\n<tr><th>metric</th><th class=\"num\">value</th></tr>\n");
        metrics.forEach((k, v) -> t.append("<tr><td>").append(Html.escape(k)).append("</td><td class=\"num\">")
                .append(Html.number(v)).append("</td></tr>\n"));
        return t.append("</table>\n").toString();
    }

    /**
     * The headline numbers, each saying what it is: validation metrics of the saved model (the best
     * checkpoint's when the run ended with it), test metrics when there was a test set, the last logged
     * training loss with its step (the loss the terminal showed last), and the epochs trained with the
     * best checkpoint's epoch beside them (ReportWriterTest.theHeaderSaysWhatEachNumberIs).
     */
    private static String runHeader(RunReport r, LogHistory log) {
        StringBuilder h = new StringBuilder("<h1>").append(Html.escape(r.title())).append("</h1>\n");
        h.append(subtitle(r.modelId(), r.strategy(), r.dataset()));
        RunReport.Trained trained = r.trained();
        Long bestStep = trained == null ? null : trained.bestStep();
        Double bestEpoch = bestStep == null ? null : epochOfEvaluationAt(log, bestStep);
        String validationDetail = r.finalMetrics().isEmpty() ? "validation, last evaluation"
                : bestStep == null ? "validation, final model"
                : "validation, best checkpoint (step " + Html.integer(bestStep) + ")";
        // The final metrics when given, else the last evaluation of the log.
        Map<String, Double> m = new LinkedHashMap<>(r.finalMetrics());
        if (m.isEmpty() && !log.evaluations().isEmpty()) {
            log.evaluations().get(log.evaluations().size() - 1).forEach((k, v) -> {
                Double d = LogHistory.number(v);
                if (d != null) {
                    m.put(k, d);
                }
            });
        }
        List<String> cards = new ArrayList<>();
        Map<String, String> headline = new LinkedHashMap<>();
        headline.put("accuracy", "accuracy");
        headline.put("macro_f1", "macro F1");
        headline.put("f1", "F1");
        headline.put("loss", "validation loss");
        headline.forEach((key, name) -> {
            if (m.containsKey("eval_" + key)) {
                cards.add(card(name, Html.number(m.get("eval_" + key)), validationDetail));
            }
        });
        if (r.roc() != null) {
            cards.add(card("ROC AUC", Html.number(r.roc().auc()), validationDetail));
        }
        for (String key : List.of("accuracy", "macro_f1")) {
            Double v = r.testMetrics().get("test_" + key);
            if (v != null) {
                cards.add(card("test " + headline.get(key), Html.number(v), "test set, same model"));
            }
        }
        List<Map<String, Object>> train = log.training();
        if (!train.isEmpty()) {
            Map<String, Object> last = train.get(train.size() - 1);
            Double step = LogHistory.number(last.get("step"));
            cards.add(card("final training loss", Html.number(LogHistory.number(last.get("loss"))),
                    step == null ? "last logged value" : "last logged step " + Html.integer(step)));
        }
        double epochs = trained != null ? trained.epochs() : r.logHistory().stream().map(x -> LogHistory.number(x.get("epoch")))
                .filter(e -> e != null).mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        double steps = trained != null ? trained.steps() : r.logHistory().stream().map(x -> LogHistory.number(x.get("step")))
                .filter(e -> e != null).mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
        if (Double.isFinite(epochs)) {
            cards.add(card("epochs trained", trimmed(epochs), Double.isFinite(steps) ? Html.integer(steps) + " steps" : ""));
        }
        if (bestStep != null) {
            cards.add(card("best checkpoint", bestEpoch == null ? "step " + Html.integer(bestStep) : "epoch " + trimmed(bestEpoch),
                    "step " + Html.integer(bestStep) + ", the model evaluated here"));
        }
        if (!cards.isEmpty()) {
            h.append("<div class=\"cards\">").append(String.join("", cards)).append("</div>\n");
        }
        return h.toString();
    }

    /** The epoch of the evaluation logged at {@code step}, or null when none was. */
    private static Double epochOfEvaluationAt(LogHistory log, long step) {
        for (Map<String, Object> e : log.evaluations()) {
            Double s = LogHistory.number(e.get("step"));
            if (s != null && s == step) {
                return LogHistory.number(e.get("epoch"));
            }
        }
        return null;
    }

    private static String evaluationsTable(LogHistory log) {
        List<String> keys = log.tableKeys();
        // Many metrics make a wide table: headers wrap at the words (macro_precision → "macro precision"),
        // and a table still wider than the page scrolls inside its own box instead of widening the page.
        StringBuilder t = new StringBuilder("<div class=\"scroll\"><table class=\"wide-head compact\">\n<tr><th class=\"num\">epoch</th>"
                + "<th class=\"num\">step</th><th class=\"num\">training loss</th>");
        for (String k : keys) {
            t.append("<th class=\"num\">").append(Html.escape(k.equals("eval_loss") ? "validation loss"
                    : k.substring("eval_".length()).replace('_', ' '))).append("</th>");
        }
        t.append("</tr>\n");
        for (Map<String, Object> e : log.evaluations()) {
            Double epoch = LogHistory.number(e.get("epoch"));
            Double step = LogHistory.number(e.get("step"));
            Double trainLoss = log.trainingLossAt(log.x(e));
            t.append("<tr>").append(numCell(epoch == null ? "—" : trimmed(epoch)))
                    .append(numCell(step == null ? "—" : Html.integer(step)))
                    .append(numCell(trainLoss == null ? "—" : Html.number(trainLoss)));
            for (String k : keys) {
                Double v = LogHistory.number(e.get(k));
                t.append(numCell(v == null ? "—" : Html.number(v)));
            }
            t.append("</tr>\n");
        }
        return t.append("</table></div>\n").toString();
    }

    private static String confusionTable(List<String> labels, int[][] cm) {
        StringBuilder t = new StringBuilder("<table class=\"cm\">\n<tr><th class=\"corner\">true \\ predicted</th>");
        for (String l : labels) {
            t.append("<th class=\"num\">").append(Html.escape(l)).append("</th>");
        }
        t.append("<th class=\"num\">total</th></tr>\n");
        for (int i = 0; i < cm.length; i++) {
            t.append("<tr><th>").append(Html.escape(labels.get(i))).append("</th>");
            long total = 0;
            for (int j = 0; j < cm[i].length; j++) {
                String count = Html.integer(cm[i][j]);
                t.append(numCell(i == j ? "<b>" + count + "</b>" : count));
                total += cm[i][j];
            }
            t.append(numCell(Html.integer(total))).append("</tr>\n");
        }
        return t.append("</table>\n").toString();
    }

    private static String misclassifiedTable(List<Misclassified> examples) {
        List<Misclassified> sorted = new ArrayList<>(examples);
        sorted.sort(Comparator.comparingDouble(Misclassified::score).reversed());
        StringBuilder t = new StringBuilder("<p>Sorted by the score of the wrong prediction, most confident first.</p>\n"
                + "<table>\n<tr><th class=\"num\">#</th><th>text</th><th>true</th><th>predicted</th><th class=\"num\">score</th></tr>\n");
        for (int i = 0; i < sorted.size(); i++) {
            Misclassified m = sorted.get(i);
            t.append("<tr>").append(numCell(Integer.toString(i + 1)))
                    .append("<td class=\"text\">").append(preview(m.text())).append("</td>")
                    .append("<td>").append(Html.escape(m.goldLabel())).append("</td>")
                    .append("<td>").append(Html.escape(m.predictedLabel())).append("</td>")
                    .append(numCell(Html.fixed(m.score(), 4))).append("</tr>\n");
        }
        return t.append("</table>\n").toString();
    }

    /** A long text shows its start; the whole of it is one click away. Cut at a code point, never inside a surrogate pair. */
    private static String preview(String text) {
        if (text.codePointCount(0, text.length()) <= TEXT_PREVIEW) {
            return Html.escape(text);
        }
        String head = text.substring(0, text.offsetByCodePoints(0, TEXT_PREVIEW));
        return Html.escape(head) + "…<details><summary>full text</summary>" + Html.escape(text) + "</details>";
    }

    /** Share of label 1 (scikit-learn's default positive label) among the true labels; null without a matrix. */
    private static Double positiveRate(int[][] cm) {
        if (cm == null || cm.length != 2) {
            return null;
        }
        long positives = (long) cm[1][0] + cm[1][1];
        long total = positives + cm[0][0] + cm[0][1];
        return total == 0 ? null : (double) positives / total;
    }

    // ---- compare: one row per strategy ------------------------------------------------------------

    public static ReportFiles write(Path dir, ComparisonReport c) {
        List<ComparisonReport.Row> rows = c.rows();
        Page page = new Page();

        page.section("results", "Results per strategy");
        page.raw(comparisonTable(rows));
        page.end();

        page.section("charts", "Charts");
        page.gridStart();
        page.figure(COMPARISON_QUALITY, "Validation accuracy and F1 per strategy", Charts.quality(rows));
        page.figure(COMPARISON_TIME, "Training wall time per strategy", Charts.time(rows));
        page.figure(COMPARISON_MEMORY, "Peak memory and saved size per strategy", Charts.memory(rows));
        if (!c.evalCurves().isEmpty()) {
            page.figure(COMPARISON_EVAL_LOSS, "Validation loss per epoch for each strategy", Charts.evalLossCurves(c.evalCurves()));
        }
        page.gridEnd();
        if (rows.stream().anyMatch(r -> r.positiveClassF1() == null) && rows.stream().anyMatch(r -> r.positiveClassF1() != null)) {
            page.note("Positive-class F1 is not charted: some strategies have none.");
        }
        if (c.evalCurves().isEmpty()) {
            page.note("No validation-loss curves were given, so there is no per-epoch comparison chart.");
        }
        page.end();

        StringBuilder h = new StringBuilder("<h1>").append(Html.escape(c.title())).append("</h1>\n");
        h.append(subtitle(c.modelId(), null, c.dataset()));
        ComparisonReport.Row bestAcc = rows.stream().max(Comparator.comparingDouble(ComparisonReport.Row::validationAccuracy)).orElseThrow();
        ComparisonReport.Row bestF1 = rows.stream().max(Comparator.comparingDouble(ComparisonReport.Row::macroF1)).orElseThrow();
        ComparisonReport.Row fastest = rows.stream().min(Comparator.comparingDouble(ComparisonReport.Row::wallTimeSeconds)).orElseThrow();
        ComparisonReport.Row leanest = rows.stream().min(Comparator.comparingDouble(ComparisonReport.Row::peakRssMb)).orElseThrow();
        h.append("<div class=\"cards\">")
                .append(card("best accuracy", Html.number(bestAcc.validationAccuracy()), bestAcc.strategy()))
                .append(card("best macro F1", Html.number(bestF1.macroF1()), bestF1.strategy()))
                .append(card("fastest", Html.fixed(fastest.wallTimeSeconds(), 1) + " s", fastest.strategy()))
                .append(card("least memory", Html.fixed(leanest.peakRssMb(), 0) + " MB", leanest.strategy()))
                .append(card("strategies", Integer.toString(rows.size()), ""))
                .append("</div>\n");

        String html = Html.page(c.title(), h.toString(), page.nav(), page.body());
        return writeAll(dir, page.figures(), COMPARISON_CHARTS, html);
    }

    /** A column of the comparison table: its header, how to format a row's value, and whether more is better. */
    private record Column(String header, Function<ComparisonReport.Row, Double> value, Function<Double, String> format, Boolean higherIsBetter) {
    }

    private static String comparisonTable(List<ComparisonReport.Row> rows) {
        List<Column> columns = new ArrayList<>(List.of(
                new Column("trainable params", r -> (double) r.trainableParams(), Html::integer, null),
                new Column("trainable %", ComparisonReport.Row::trainablePercent, Html::small, null),
                new Column("wall time s", ComparisonReport.Row::wallTimeSeconds, v -> Html.fixed(v, 1), false),
                new Column("train samples/s", ComparisonReport.Row::trainSamplesPerSecond, v -> Html.fixed(v, 1), true),
                new Column("peak RSS MB", ComparisonReport.Row::peakRssMb, v -> Html.fixed(v, 0), false),
                new Column("saved size MB", ComparisonReport.Row::savedSizeMb, Html::small, false),
                new Column("val accuracy", ComparisonReport.Row::validationAccuracy, Html::number, true),
                new Column("macro F1", ComparisonReport.Row::macroF1, Html::number, true),
                new Column("positive-class F1", ComparisonReport.Row::positiveClassF1, Html::number, true)));
        Set<String> testKeys = new LinkedHashSet<>();
        rows.forEach(r -> testKeys.addAll(r.testMetrics().keySet()));
        for (String k : testKeys) {
            columns.add(new Column(k.startsWith("test") ? k : "test " + k, r -> r.testMetrics().get(k), Html::number,
                    k.contains("loss") ? Boolean.FALSE : Boolean.TRUE));
        }
        StringBuilder t = new StringBuilder("<div class=\"scroll\"><table class=\"wide-head\">\n<tr><th>strategy</th>");
        columns.forEach(col -> t.append("<th class=\"num\">").append(Html.escape(col.header())).append("</th>"));
        t.append("</tr>\n");
        for (ComparisonReport.Row r : rows) {
            t.append("<tr><th>").append(Html.escape(r.strategy())).append("</th>");
            for (Column col : columns) {
                Double v = col.value().apply(r);
                boolean best = v != null && rows.size() > 1 && col.higherIsBetter() != null && v.equals(best(rows, col));
                t.append("<td class=\"num").append(best ? " best" : "").append("\">")
                        .append(v == null ? "—" : col.format().apply(v)).append("</td>");
            }
            t.append("</tr>\n");
        }
        return t.append("</table></div>\n<p>The best value of each measured column is in bold.</p>\n").toString();
    }

    private static Double best(List<ComparisonReport.Row> rows, Column col) {
        var values = rows.stream().map(col.value()).filter(v -> v != null);
        return col.higherIsBetter() ? values.max(Double::compare).orElse(null) : values.min(Double::compare).orElse(null);
    }

    // ---- tune: one row per trial -----------------------------------------------------------------

    public static ReportFiles write(Path dir, TuneReport r) {
        Page page = new Page();
        List<TuneReport.Point> complete = r.trials().stream().filter(TuneReport.Point::complete).toList();
        page.section("charts", "Charts");
        if (complete.isEmpty()) {
            page.note("No trial completed, so there is no objective to chart.");
        } else {
            page.gridStart();
            page.figure(TUNE_OBJECTIVE, r.metric() + " of each trial (pruned ones at the last value they reached) and the"
                    + " best so far", Charts.objective(r));
            if (r.trials().stream().anyMatch(p -> !p.intermediate().isEmpty())) {
                page.figure(TUNE_CURVES, "Each trial's " + r.metric() + " at each evaluation; pruned trials dashed, stopped at"
                        + " the cross", Charts.learningCurves(r));
            }
            for (String name : r.logScale().keySet()) {
                page.figure(TUNE_PARAM_PREFIX + name.toLowerCase(Locale.ROOT).replaceAll("[^a-z_]", "_") + ".png",
                        r.metric() + " against " + name, Charts.parameter(r, name));
            }
            page.gridEnd();
        }
        page.end();

        page.section("trials", "Trials");
        StringBuilder t = new StringBuilder("<div class=\"scroll\"><table class=\"compact\">\n<tr><th>trial</th><th>state</th><th class=\"num\">")
                .append(Html.escape(r.metric())).append("</th>");
        r.logScale().keySet().forEach(n -> t.append("<th>").append(Html.escape(n)).append("</th>"));
        t.append("<th class=\"num\">evaluations</th></tr>\n");
        for (TuneReport.Point p : bestFirst(r)) {
            boolean best = r.best() != null && r.best() == p.number();
            t.append("<tr><th>").append(p.number()).append("</th><td>").append(Html.escape(p.state())).append("</td>")
                    .append("<td class=\"num").append(best ? " best" : "").append("\">")
                    .append(p.value() != null ? Html.number(p.value()) : p.intermediate().isEmpty() ? "—"
                            : "(" + Html.number(p.intermediate().get(p.intermediate().lastKey())) + ")").append("</td>");
            p.params().values().forEach(v -> t.append("<td>").append(Html.escape(v instanceof Double d ? Html.number(d)
                    : String.valueOf(v))).append("</td>"));
            t.append(numCell(Integer.toString(p.intermediate().size()))).append("</tr>\n");
        }
        page.raw(t.append("</table></div>\n<p>Best first. The best trial's value is in bold. A pruned trial has no"
                + " result: it was stopped after the evaluations counted, and its value in parentheses is the last one it"
                + " reached.</p>\n").toString());
        page.end();

        StringBuilder h = new StringBuilder("<h1>Hyperparameter study</h1>\n");
        h.append("<p class=\"sub\">objective <b>").append(Html.escape(r.metric())).append("</b> (")
                .append(r.maximize() ? "maximize" : "minimize").append(")</p>\n<div class=\"cards\">");
        TuneReport.Point bestPoint = r.best() == null ? null
                : r.trials().stream().filter(p -> p.number() == r.best()).findFirst().orElse(null);
        if (bestPoint != null) {
            h.append(card("best " + r.metric(), Html.number(bestPoint.value()), "trial " + bestPoint.number()));
        }
        StringBuilder params = new StringBuilder();
        if (bestPoint != null) {
            bestPoint.params().forEach((k, v) -> params.append(params.length() == 0 ? "" : " · ").append(Html.escape(k))
                    .append(" <b>").append(Html.escape(v instanceof Double d ? Html.number(d) : String.valueOf(v))).append("</b>"));
        }
        h.append(card("trials", Integer.toString(r.trials().size()), complete.size() + " complete"))
                .append(card("pruned", Long.toString(r.trials().stream().filter(p -> p.state().equals("PRUNED")).count()), ""))
                .append(card("failed", Long.toString(r.trials().stream().filter(p -> p.state().equals("FAILED")).count()), ""))
                .append("</div>\n");
        if (bestPoint != null) {
            h.append("<p class=\"sub\">best parameters: ").append(params).append("</p>\n");
        }
        if (r.refitNote() != null) {
            h.append(Html.note(r.refitNote()));
        }
        String html = Html.page("Hyperparameter study", h.toString(), page.nav(), page.body());
        List<String> stale = new ArrayList<>(List.of(TUNE_OBJECTIVE, TUNE_CURVES));
        return writeAll(dir, page.figures(), stale, html);
    }

    /** Complete trials by their objective, then pruned ones by the last value they reached, then the rest. */
    private static List<TuneReport.Point> bestFirst(TuneReport r) {
        java.util.Comparator<TuneReport.Point> order = java.util.Comparator.comparingInt(
                (TuneReport.Point p) -> p.complete() ? 0 : p.state().equals("PRUNED") && !p.intermediate().isEmpty() ? 1 : 2);
        order = order.thenComparingDouble(p -> {
            double v = p.complete() ? p.value() : p.intermediate().isEmpty() ? 0 : p.intermediate().get(p.intermediate().lastKey());
            return r.maximize() ? -v : v;
        });
        return r.trials().stream().sorted(order.thenComparingInt(TuneReport.Point::number)).toList();
    }

    // ---- shared -----------------------------------------------------------------------------------

    private static String subtitle(String modelId, String strategy, String dataset) {
        List<String> parts = new ArrayList<>();
        if (modelId != null && !modelId.isBlank()) {
            parts.add("model <b>" + Html.escape(modelId) + "</b>");
        }
        if (strategy != null && !strategy.isBlank()) {
            parts.add("strategy <b>" + Html.escape(strategy) + "</b>");
        }
        if (dataset != null && !dataset.isBlank()) {
            parts.add("data <b>" + Html.escape(dataset) + "</b>");
        }
        return parts.isEmpty() ? "" : "<p class=\"sub\">" + String.join(" · ", parts) + "</p>\n";
    }

    private static String card(String key, String value, String detail) {
        return "<div class=\"card\"><div class=\"k\">" + Html.escape(key) + "</div><div class=\"v\">" + value
                + "</div><div class=\"d\">" + Html.escape(detail) + "</div></div>";
    }

    private static String numCell(String html) {
        return "<td class=\"num\">" + html + "</td>";
    }

    /** An epoch such as 1.0 or 0.33: no trailing zeros. */
    private static String trimmed(double v) {
        return new BigDecimal(String.format(Locale.ROOT, "%.2f", v)).stripTrailingZeros().toPlainString();
    }

    private static String json(Map<String, Object> config) {
        try {
            return JSON.writeValueAsString(config);
        } catch (JsonProcessingException e) {
            // A value Jackson cannot serialise still deserves to be shown.
            StringBuilder b = new StringBuilder();
            config.forEach((k, v) -> b.append(k).append(" = ").append(v).append('\n'));
            return b.toString();
        }
    }

    /** Charts first, the page last, each atomically; then this kind's chart files that the new report lacks are removed. */
    private static ReportFiles writeAll(Path dir, List<Figure> figures, List<String> kindCharts, String html) {
        List<Path> written = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (Figure f : figures) {
            Path p = dir.resolve(f.file());
            AtomicFiles.write(p, out -> out.write(f.png()));
            written.add(p);
            names.add(f.file());
        }
        Path page = dir.resolve(HTML);
        AtomicFiles.writeString(page, html);
        for (String stale : kindCharts) {
            if (!names.contains(stale)) {
                try {
                    Files.deleteIfExists(dir.resolve(stale));
                } catch (IOException e) {
                    throw new UncheckedIOException("could not remove the stale chart " + dir.resolve(stale)
                            + " left by an earlier report: " + e.getMessage(), e);
                }
            }
        }
        return new ReportFiles(page, written);
    }

    /** The page body, section by section, the navigation links to the sections, and the charts shown. */
    private static final class Page {
        private final StringBuilder body = new StringBuilder();
        private final StringBuilder nav = new StringBuilder();
        private final List<Figure> figures = new ArrayList<>();

        void section(String id, String title) {
            section(id, title, title);
        }

        void section(String id, String title, String navLabel) {
            body.append("<section id=\"").append(id).append("\">\n<h2>").append(Html.escape(title)).append("</h2>\n");
            nav.append("<a href=\"#").append(id).append("\">").append(Html.escape(navLabel)).append("</a>");
        }

        void end() {
            body.append("</section>\n");
        }

        void gridStart() {
            body.append("<div class=\"grid\">\n");
        }

        void gridEnd() {
            body.append("</div>\n");
        }

        /** Renders the chart to PNG, shows it, and keeps it to be written beside the page. */
        void figure(String file, String alt, Chart<?, ?> chart) {
            Figure f = Figure.of(file, alt, chart);
            figures.add(f);
            body.append(f.html());
        }

        List<Figure> figures() {
            return figures;
        }

        void note(String text) {
            body.append(Html.note(text));
        }

        void raw(String html) {
            body.append(html);
        }

        String body() {
            return body.toString();
        }

        String nav() {
            return nav.toString();
        }
    }
}
