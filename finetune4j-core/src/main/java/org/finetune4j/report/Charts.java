package org.finetune4j.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.finetune4j.metrics.PrecisionRecallCurve;
import org.finetune4j.metrics.RocCurve;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's charts, built with XChart and encoded as PNG. Sizes are the size each chart is shown
 * at in the report (two to a row), so the PNG is drawn 1:1 and its text stays sharp.
 */
final class Charts {
    static {
        // Charts render into images on servers without a display. The property must be set before AWT
        // creates its GraphicsEnvironment; a caller who set it (either way) is left alone.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    static final int WIDTH = 540;
    static final int HEIGHT = 360;
    /** Square charts (ROC, precision-recall) read best with equal axis lengths. */
    static final int SQUARE_HEIGHT = 440;

    /** Tableau 10: distinct hues that stay apart for the common kinds of colour blindness. */
    private static final Color[] PALETTE = {rgb(0x4e79a7), rgb(0xf28e2b), rgb(0x59a14f), rgb(0xe15759),
        rgb(0x76b7b2), rgb(0xedc948), rgb(0xb07aa1), rgb(0xff9da7), rgb(0x9c755f), rgb(0xbab0ac)};
    private static final Color TEXT = rgb(0x222222);
    private static final Color GRID = rgb(0xe6e6e6);
    private static final Color REFERENCE = rgb(0x999999);
    /** Beyond this many points a line needs no markers: the points are too close to see apart. */
    private static final int MARKERS_UP_TO = 30;
    /** A legend entry's marker, line and gaps, and the width of one character of its name, at the legend font. */
    private static final int LEGEND_ENTRY_PX = 44;
    private static final int LEGEND_CHAR_PX = 7;

    private Charts() {
    }

    // ---- run charts -------------------------------------------------------------------------------

    /** Training loss per logged step, and validation loss per evaluation when there is one. */
    static XYChart loss(String axis, LogHistory.Series train, LogHistory.Series eval) {
        XYChart c = xy("Loss", axis, "loss");
        if (!train.isEmpty()) {
            line(c, "training loss", train.x(), train.y());
        }
        if (eval != null && !eval.isEmpty()) {
            line(c, "validation loss", eval.x(), eval.y());
        }
        roundTicks(c);
        return c;
    }

    static XYChart learningRate(String axis, LogHistory.Series lr) {
        XYChart c = xy("Learning rate", axis, "learning rate");
        c.getStyler().setLegendVisible(false);
        // As Python prints it (5.0e-05), not Java's 5.0E-5.
        c.getStyler().setyAxisTickLabelsFormattingFunction(v -> v == 0 ? "0" : String.format(Locale.ROOT, "%.1e", v));
        line(c, "learning rate", lr.x(), lr.y());
        roundTicks(c);
        return c;
    }

    /** One line per validation metric in [0, 1]; the legend drops the {@code eval_} prefix. */
    static XYChart evalMetrics(String axis, List<LogHistory.Series> metrics) {
        XYChart c = xy("Validation metrics", axis, "score");
        // Metrics crowd the top of the plot, where an inside legend would cover them. XChart does not wrap a
        // horizontal legend: one row below the plot when the names fit the width, else a column to the right
        // (ten metrics of a multi-class run were cut off below; ReportWriterTest.aLegendOfManyMetricsFitsTheChart).
        int legendRow = metrics.stream().mapToInt(m -> LEGEND_ENTRY_PX + LEGEND_CHAR_PX * (m.key().length() - "eval_".length())).sum();
        boolean row = legendRow <= WIDTH - 40;
        c.getStyler().setLegendPosition(row ? Styler.LegendPosition.OutsideS : Styler.LegendPosition.OutsideE)
                .setLegendLayout(row ? Styler.LegendLayout.Horizontal : Styler.LegendLayout.Vertical);
        for (LogHistory.Series s : metrics) {
            line(c, s.key().substring("eval_".length()), s.x(), s.y());
        }
        return c;
    }

    /**
     * Counts as a heat map, rows = true label top to bottom, columns = predicted label, each cell
     * annotated with its count: the layout of scikit-learn's {@code ConfusionMatrixDisplay}.
     */
    static HeatMapChart confusionMatrix(List<String> labels, int[][] counts) {
        int n = labels.size();
        int size = confusionSize(n);
        HeatMapChart c = new HeatMapChartBuilder().width(size).height(size - 100).title("Confusion matrix")
                .xAxisTitle("predicted").yAxisTitle("true").build();
        // XChart draws y index 0 at the bottom; sklearn puts the first true label at the top.
        List<String> rowsTopDown = new ArrayList<>(labels);
        Collections.reverse(rowsTopDown);
        List<Number[]> cells = new ArrayList<>();
        int max = 0;
        for (int t = 0; t < n; t++) {
            for (int p = 0; p < n; p++) {
                cells.add(new Number[] {p, n - 1 - t, counts[t][p]});
                max = Math.max(max, counts[t][p]);
            }
        }
        c.addSeries("counts", labels, rowsTopDown, cells);
        var s = c.getStyler();
        base(s);
        s.setPlotGridLinesVisible(false);
        s.setShowValue(true).setValueFont(new Font(Font.SANS_SERIF, Font.BOLD, n > 10 ? 10 : 13)).setValueFontColor(TEXT);
        s.setHeatMapValueDecimalPattern("#,##0");
        s.setMin(0).setMax(Math.max(1, max));
        s.setRangeColors(new Color[] {rgb(0xf7fbff), rgb(0xc6dbef), rgb(0x6baed6)});
        s.setDrawBorder(true);
        // Every cell shows its count; XChart's colour scale would add only "0.0" and the maximum.
        s.setLegendVisible(false);
        if (n > 6) {
            s.setXAxisLabelRotation(45);
        }
        return c;
    }

    /** Larger for more labels, so counts fit in their cells. */
    static int confusionSize(int labels) {
        return Math.max(WIDTH, Math.min(1100, 200 + 56 * labels));
    }

    static XYChart roc(RocCurve roc) {
        XYChart c = square("ROC curve", "false positive rate", "true positive rate");
        line(c, String.format(Locale.ROOT, "ROC (AUC = %.3f)", roc.auc()), roc.fpr(), roc.tpr());
        reference(c, "chance", new double[] {0, 1}, new double[] {0, 1});
        unitSquare(c);
        roundTicks(c);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        return c;
    }

    /**
     * @param positiveRate share of positive examples, the precision of a classifier that guesses; null
     *     leaves the chance line out
     */
    static XYChart precisionRecall(PrecisionRecallCurve pr, Double positiveRate) {
        XYChart c = square("Precision-recall curve", "recall", "precision");
        line(c, String.format(Locale.ROOT, "PR (AP = %.3f)", pr.averagePrecision()), pr.recall(), pr.precision());
        if (positiveRate != null) {
            reference(c, String.format(Locale.ROOT, "chance (positive rate %.2f)", positiveRate),
                    new double[] {0, 1}, new double[] {positiveRate, positiveRate});
        }
        unitSquare(c);
        roundTicks(c);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideSW);
        return c;
    }

    // ---- comparison charts ------------------------------------------------------------------------

    /** Validation accuracy and F1 per strategy, on a 0..1 axis so bar lengths compare honestly. */
    static CategoryChart quality(List<ComparisonReport.Row> rows) {
        CategoryChart c = bars("Validation quality", "score", rows);
        List<String> names = rows.stream().map(ComparisonReport.Row::strategy).toList();
        c.addSeries("accuracy", names, values(rows, ComparisonReport.Row::validationAccuracy));
        c.addSeries("macro F1", names, values(rows, ComparisonReport.Row::macroF1));
        if (rows.stream().allMatch(r -> r.positiveClassF1() != null)) {
            c.addSeries("positive-class F1", names, values(rows, ComparisonReport.Row::positiveClassF1));
        }
        c.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        // Three values per strategy: upright three-decimal labels would run into each other. XChart formats
        // axis ticks and bar labels with one pattern; "0.0##" gives 0.2 on the axis and 0.823 on a bar.
        c.getStyler().setLabelsRotation(90).setLabelsPosition(0.5).setDecimalPattern("0.0##");
        return c;
    }

    static CategoryChart time(List<ComparisonReport.Row> rows) {
        CategoryChart c = bars("Training time", "seconds", rows);
        c.addSeries("wall time (s)", rows.stream().map(ComparisonReport.Row::strategy).toList(),
                values(rows, ComparisonReport.Row::wallTimeSeconds));
        c.getStyler().setYAxisMin(0.0).setDecimalPattern("#,##0.#");
        c.getStyler().setLegendVisible(false);
        return c;
    }

    static CategoryChart memory(List<ComparisonReport.Row> rows) {
        CategoryChart c = bars("Memory and size on disk", "MB", rows);
        List<String> names = rows.stream().map(ComparisonReport.Row::strategy).toList();
        c.addSeries("peak RSS (MB)", names, values(rows, ComparisonReport.Row::peakRssMb));
        c.addSeries("saved size (MB)", names, values(rows, ComparisonReport.Row::savedSizeMb));
        // A frozen run saves a classifier head of a few kB: 0.01 MB, not 0.
        c.getStyler().setYAxisMin(0.0).setDecimalPattern("#,##0.##");
        return c;
    }

    static XYChart evalLossCurves(List<ComparisonReport.EvalCurve> curves) {
        XYChart c = xy("Validation loss per strategy", "epoch", "validation loss");
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        for (ComparisonReport.EvalCurve curve : curves) {
            XYSeries s = line(c, curve.strategy(), curve.epochs(), curve.evalLoss());
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        return c;
    }

    // ---- tune: one point per trial -----------------------------------------------------------------

    /**
     * Each complete trial's objective by trial number, each pruned trial's last intermediate value (it was
     * stopped there: not a result), and the best so far as a step line that changes only where a trial beat it.
     */
    static XYChart objective(TuneReport r) {
        XYChart c = xy("Objective over trials", "trial", r.metric());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        List<double[]> best = new ArrayList<>();
        double running = Double.NaN;
        for (TuneReport.Point p : r.trials()) {
            double before = running;
            if (p.complete() && (Double.isNaN(running) || (r.maximize() ? p.value() > running : p.value() < running))) {
                running = p.value();
            }
            if (!Double.isNaN(before) && before != running) {
                best.add(new double[] {p.number(), before}); // the step: flat up to this trial, then its value
            }
            if (!Double.isNaN(running)) {
                best.add(new double[] {p.number(), running});
            }
        }
        trialPoints(c, r, p -> p.number());
        XYSeries line = line(c, "best so far", column(best, 0), column(best, 1));
        line.setMarker(SeriesMarkers.NONE);
        line.setLineColor(PALETTE[2]);
        roundTicks(c);
        c.getStyler().setxAxisTickLabelsFormattingFunction(x -> Math.abs(x - Math.rint(x)) < 1e-9 ? Long.toString(Math.round(x)) : "");
        valueAxis(c, r);
        return c;
    }

    /**
     * The objective of each trial against one parameter's value: complete trials as results, pruned ones at the
     * last value they reached. A parameter searched on a log scale is placed by its logarithm and labelled with
     * its value; values that are not numbers (choices such as "linear") are placed at their index among the
     * distinct values, labelled by name.
     */
    static XYChart parameter(TuneReport r, String name) {
        boolean numeric = r.trials().stream().allMatch(p -> p.params().get(name) instanceof Number);
        boolean log = numeric && Boolean.TRUE.equals(r.logScale().get(name));
        XYChart c = xy(r.metric() + " against " + name, log ? name + " (log scale)" : name, r.metric());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        List<Object> categories = new ArrayList<>();
        for (TuneReport.Point p : r.trials()) {
            if (!numeric && !categories.contains(p.params().get(name))) {
                categories.add(p.params().get(name));
            }
        }
        trialPoints(c, r, p -> {
            Object v = p.params().get(name);
            return !numeric ? categories.indexOf(v) : log ? Math.log10(((Number) v).doubleValue()) : ((Number) v).doubleValue();
        });
        if (!numeric) {
            // An invisible point at every category's place, so that XChart puts its ticks there (at the data's own
            // values, when they are equally spaced) and every category is labelled, including any no trial reached.
            double[] at = java.util.stream.IntStream.range(0, categories.size()).asDoubleStream().toArray();
            double[] y = new double[at.length];
            java.util.Arrays.fill(y, range0(r));
            XYSeries room = c.addSeries("categories", at, y);
            room.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            room.setMarker(SeriesMarkers.NONE).setShowInLegend(false);
            c.getStyler().setxAxisTickLabelsFormattingFunction(x -> {
                long i = Math.round(x);
                return Math.abs(x - i) < 1e-9 && i >= 0 && i < categories.size() ? String.valueOf(categories.get((int) i)) : "";
            });
        } else {
            roundTicks(c);
            boolean integral = r.trials().stream().allMatch(p -> p.params().get(name) instanceof Integer || p.params().get(name) instanceof Long);
            double[] range = range(r.trials().stream().mapToDouble(p -> ((Number) p.params().get(name)).doubleValue()).toArray());
            c.getStyler().setxAxisTickLabelsFormattingFunction(log ? x -> String.format(Locale.ROOT, "%.1e", Math.pow(10, x))
                    : integral ? x -> Math.abs(x - Math.rint(x)) < 1e-9 ? Long.toString(Math.round(x)) : ""
                    : tickFormat(range[0], range[1]));
        }
        valueAxis(c, r);
        return c;
    }

    /**
     * Every trial's intermediate values per evaluation: complete trials solid, the best one in its own colour,
     * pruned trials dashed in another, ending with a cross where they were stopped.
     */
    static XYChart learningCurves(TuneReport r) {
        XYChart c = xy("Intermediate values per trial", "evaluation", r.metric());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        boolean prunedNamed = false;
        boolean othersNamed = false;
        for (TuneReport.Point p : r.trials()) {
            if (p.intermediate().isEmpty()) {
                continue;
            }
            boolean pruned = p.state().equals("PRUNED");
            boolean best = r.best() != null && r.best() == p.number();
            double[] x = p.intermediate().keySet().stream().mapToDouble(Integer::doubleValue).toArray();
            double[] y = p.intermediate().values().stream().mapToDouble(Double::doubleValue).toArray();
            // One legend entry per kind; the trials themselves are told apart by the table, not by colour.
            boolean named = !best && (pruned ? prunedNamed : othersNamed);
            String label = best ? "best trial (" + p.number() + ")" : named ? "trial " + p.number()
                    : pruned ? "pruned trials (x: stopped)" : "other trials";
            XYSeries s = line(c, label, x, y);
            s.setShowInLegend(!named);
            Color colour = best ? PALETTE[2] : pruned ? PALETTE[1] : PALETTE[0];
            s.setLineColor(colour);
            s.setMarkerColor(colour);
            if (pruned) {
                s.setLineStyle(new BasicStroke(1.6f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
                XYSeries stop = c.addSeries("stopped " + p.number(), new double[] {x[x.length - 1]}, new double[] {y[y.length - 1]});
                stop.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                stop.setMarker(SeriesMarkers.CROSS).setMarkerColor(colour).setShowInLegend(false);
                prunedNamed = true;
            } else if (!best) {
                othersNamed = true;
            }
        }
        c.getStyler().setxAxisTickLabelsFormattingFunction(x -> Math.abs(x - Math.rint(x)) < 1e-9 ? Long.toString(Math.round(x)) : "");
        valueAxis(c, r);
        return c;
    }

    /** Complete trials as filled circles, pruned trials at their last intermediate value as orange diamonds. */
    private static void trialPoints(XYChart c, TuneReport r, ToDoubleFunction<TuneReport.Point> x) {
        List<double[]> complete = new ArrayList<>();
        List<double[]> pruned = new ArrayList<>();
        for (TuneReport.Point p : r.trials()) {
            if (p.complete()) {
                complete.add(new double[] {x.applyAsDouble(p), p.value()});
            } else if (p.state().equals("PRUNED") && !p.intermediate().isEmpty()) {
                pruned.add(new double[] {x.applyAsDouble(p), p.intermediate().get(p.intermediate().lastKey())});
            }
        }
        XYSeries done = scatter(c, "complete trial", column(complete, 0), column(complete, 1));
        if (!complete.isEmpty()) {
            done.setMarkerColor(PALETTE[0]);
        }
        if (!pruned.isEmpty()) {
            XYSeries s = scatter(c, "pruned trial (last value reached)", column(pruned, 0), column(pruned, 1));
            s.setMarker(SeriesMarkers.DIAMOND).setMarkerColor(PALETTE[1]);
        }
    }

    /** The objective's ticks with as many decimals as its range needs (0.69322 and 0.69326 apart, not 6.9322E-1). */
    private static void valueAxis(XYChart c, TuneReport r) {
        double[] range = range(r.trials().stream().flatMapToDouble(p -> java.util.stream.DoubleStream.concat(
                p.complete() ? java.util.stream.DoubleStream.of(p.value()) : java.util.stream.DoubleStream.empty(),
                p.intermediate().values().stream().mapToDouble(Double::doubleValue))).toArray());
        c.getStyler().setyAxisTickLabelsFormattingFunction(tickFormat(range[0], range[1]));
    }

    /** A value inside the objective's range, for invisible points that must not stretch it. */
    private static double range0(TuneReport r) {
        return r.trials().stream().filter(TuneReport.Point::complete).mapToDouble(TuneReport.Point::value).findFirst()
                .orElseGet(() -> r.trials().stream().flatMap(p -> p.intermediate().values().stream()).mapToDouble(Double::doubleValue)
                        .findFirst().orElse(0));
    }

    private static double[] range(double[] values) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (double v : values) {
            if (Double.isFinite(v)) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        }
        return min <= max ? new double[] {min, max} : new double[] {0, 1};
    }

    /**
     * Tick labels for values between {@code min} and {@code max}: fixed decimals, enough to tell ticks a tenth of
     * the range apart (XChart steps by 1, 2, 2.5 or 5 times a power of ten); scientific notation below 0.001.
     */
    static java.util.function.Function<Double, String> tickFormat(double min, double max) {
        double magnitude = Math.max(Math.abs(min), Math.abs(max));
        if (magnitude > 0 && magnitude < 1e-3) {
            return v -> v == 0 ? "0" : String.format(Locale.ROOT, "%.2e", v);
        }
        double span = max - min > 0 ? max - min : Math.max(magnitude, 1);
        int decimals = (int) Math.max(0, Math.min(8, Math.ceil(-Math.log10(span / 10))));
        return v -> String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < 1e-12 ? 0.0 : v);
    }

    private static XYSeries scatter(XYChart c, String name, double[] x, double[] y) {
        XYSeries s = c.addSeries(name, x.length == 0 ? new double[] {0} : x, y.length == 0 ? new double[] {0} : y);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarker(SeriesMarkers.CIRCLE);
        if (x.length == 0) {
            s.setMarkerColor(new Color(0, 0, 0, 0)); // no complete trial: an empty plot, not a fake point
        }
        return s;
    }

    private static double[] column(List<double[]> points, int i) {
        return points.stream().mapToDouble(p -> p[i]).toArray();
    }

    // ---- bench: scaling curves --------------------------------------------------------------------

    /** One line per named series of (x, y) points, e.g. samples/s against sequence length. */
    static XYChart curves(String title, String xTitle, String yTitle, java.util.Map<String, double[][]> series) {
        XYChart c = xy(title, xTitle, yTitle);
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        series.forEach((name, points) -> line(c, name, points[0], points[1]));
        roundTicks(c);
        return c;
    }

    // ---- encoding ---------------------------------------------------------------------------------

    static byte[] png(Chart<?, ?> chart) {
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("could not encode the chart \"" + chart.getTitle() + "\" as PNG: " + e.getMessage(), e);
        }
    }

    // ---- building blocks --------------------------------------------------------------------------

    private static XYChart xy(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        base(c.getStyler());
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        return c;
    }

    private static XYChart square(String title, String xTitle, String yTitle) {
        XYChart c = new XYChartBuilder().width(WIDTH).height(SQUARE_HEIGHT).title(title).xAxisTitle(xTitle).yAxisTitle(yTitle).build();
        base(c.getStyler());
        c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        return c;
    }

    /**
     * Makes both axes span [0, 1]. Fixed axis bounds would be shifted against the data by XChart's plot
     * padding, so two invisible corner points set the range instead. Added last, so the visible series
     * keep the palette's first colours.
     */
    private static void unitSquare(XYChart c) {
        XYSeries corners = c.addSeries("unit square", new double[] {0, 1}, new double[] {0, 1});
        corners.setMarker(SeriesMarkers.NONE).setShowInLegend(false);
        corners.setLineColor(new Color(0, 0, 0, 0));
    }

    /**
     * Asks for ticks at round numbers (0, 0.2, 0.4, ...). XChart 3.8 puts the ticks at the data's own
     * values when all the distinct values on an axis, in the order the series hold them, are equally
     * spaced: fine for three evaluations at steps 429, 858, 1287, but a ROC curve's true positive rates
     * (k / positives) then get one long label each. One invisible point inside the data's range, added
     * after the others, breaks that spacing without moving the axes.
     */
    private static void roundTicks(XYChart c) {
        double xMin = Double.POSITIVE_INFINITY;
        double xMax = Double.NEGATIVE_INFINITY;
        double yMin = Double.POSITIVE_INFINITY;
        double yMax = Double.NEGATIVE_INFINITY;
        for (XYSeries s : c.getSeriesMap().values()) {
            for (double v : s.getXData()) {
                xMin = Math.min(xMin, v);
                xMax = Math.max(xMax, v);
            }
            for (double v : s.getYData()) {
                yMin = Math.min(yMin, v);
                yMax = Math.max(yMax, v);
            }
        }
        if (!(xMax > xMin && yMax > yMin)) {
            return;
        }
        // An odd fraction of the range, so the point does not repeat a data value (repeats are dropped).
        double f = 0.5123456789;
        XYSeries tick = c.addSeries("round ticks", new double[] {xMin + f * (xMax - xMin)}, new double[] {yMin + f * (yMax - yMin)});
        tick.setMarker(SeriesMarkers.NONE).setShowInLegend(false);
        tick.setLineColor(new Color(0, 0, 0, 0));
    }

    /** A line with markers when it has few enough points to tell them apart (a single point needs one to show). */
    private static XYSeries line(XYChart c, String name, double[] x, double[] y) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(x.length <= MARKERS_UP_TO ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
        s.setLineWidth(2f);
        return s;
    }

    private static void reference(XYChart c, String name, double[] x, double[] y) {
        XYSeries s = c.addSeries(name, x, y);
        s.setMarker(SeriesMarkers.NONE);
        s.setLineColor(REFERENCE);
        s.setLineStyle(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
    }

    private static CategoryChart bars(String title, String yTitle, List<ComparisonReport.Row> rows) {
        CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("strategy").yAxisTitle(yTitle).build();
        base(c.getStyler());
        c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        c.getStyler().setLabelsVisible(true).setLabelsPosition(0.92).setLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        c.getStyler().setPlotGridVerticalLinesVisible(false);
        c.getStyler().setAvailableSpaceFill(0.8);
        if (rows.size() > 5) {
            c.getStyler().setXAxisLabelRotation(30);
        }
        return c;
    }

    private static List<Double> values(List<ComparisonReport.Row> rows, ToDoubleFunction<ComparisonReport.Row> f) {
        return rows.stream().map(r -> f.applyAsDouble(r)).toList();
    }

    /** Shared look: white background, light grid, dark text, one font family (DejaVu/Arial via the logical SansSerif). */
    private static void base(AxesChartStyler s) {
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(false);
        s.setPlotGridLinesColor(GRID);
        s.setPlotGridLinesStroke(new BasicStroke(1f));
        s.setChartFontColor(TEXT);
        s.setAxisTickLabelsColor(TEXT);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        s.setChartTitleBoxVisible(false);
        s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        s.setLegendBorderColor(GRID);
        s.setLegendBackgroundColor(new Color(255, 255, 255, 230));
        s.setSeriesColors(PALETTE);
        s.setMarkerSize(6);
        s.setChartPadding(12);
        s.setAntiAlias(true);
        s.setLocale(Locale.ROOT);
    }

    private static Color rgb(int hex) {
        return new Color(hex);
    }
}
