package org.finetune4j.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.BasicStroke;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

/** The study report's charts and table, on a hand-made study of four trials (one pruned). */
class TuneChartsTest {
    /** Maximised: 0.5, pruned at 0.4 after one evaluation, 0.7, 0.6. */
    static TuneReport study() {
        return new TuneReport("eval_f1", true, new LinkedHashMap<>(Map.of("learning_rate", true)), List.of(
                point(0, "COMPLETE", 0.5, 1e-4, Map.of(1, 0.45, 2, 0.5)),
                point(1, "PRUNED", null, 1e-2, Map.of(1, 0.4)),
                point(2, "COMPLETE", 0.7, 1e-3, Map.of(1, 0.6, 2, 0.7)),
                point(3, "COMPLETE", 0.6, 3e-4, Map.of(1, 0.55, 2, 0.6))), 2, null);
    }

    static TuneReport.Point point(int n, String state, Double value, double lr, Map<Integer, Double> intermediate) {
        return new TuneReport.Point(n, state, value, Map.of("learning_rate", lr), new TreeMap<>(intermediate));
    }

    @Test
    void theBestSoFarIsAStepLineOverEveryTrialAndPrunedTrialsShowWhereTheyStopped() {
        XYChart c = Charts.objective(study());
        XYSeries best = c.getSeriesMap().get("best so far");
        // Flat at 0.5 through trials 0 and 1 (pruned), up to 0.7 at trial 2, flat through trial 3 (0.6 is worse).
        assertArrayEquals(new double[] {0, 1, 2, 2, 3}, best.getXData());
        assertArrayEquals(new double[] {0.5, 0.5, 0.5, 0.7, 0.7}, best.getYData());
        XYSeries pruned = c.getSeriesMap().get("pruned trial (last value reached)");
        assertArrayEquals(new double[] {1}, pruned.getXData());
        assertArrayEquals(new double[] {0.4}, pruned.getYData());
        assertArrayEquals(new double[] {0, 2, 3}, c.getSeriesMap().get("complete trial").getXData());
        assertEquals("0.50", c.getStyler().getyAxisTickLabelsFormattingFunction().apply(0.5), "0.4..0.7: two decimals");
    }

    @Test
    void aLogScaleParameterIsPlacedByItsLogarithmAndLabelledWithItsValue() {
        XYChart c = Charts.parameter(study(), "learning_rate");
        assertEquals("learning_rate (log scale)", c.getXAxisTitle());
        assertArrayEquals(new double[] {-4, -3, Math.log10(3e-4)}, c.getSeriesMap().get("complete trial").getXData(), 1e-12);
        assertArrayEquals(new double[] {-2}, c.getSeriesMap().get("pruned trial (last value reached)").getXData(), 1e-12);
        assertEquals("1.0e-03", c.getStyler().getxAxisTickLabelsFormattingFunction().apply(-3.0));
    }

    @Test
    void choicesAreLabelledByName() {
        TuneReport r = new TuneReport("eval_loss", false, Map.of("lr_scheduler_type", false), List.of(
                new TuneReport.Point(0, "COMPLETE", 0.6, Map.of("lr_scheduler_type", "cosine"), new TreeMap<>()),
                new TuneReport.Point(1, "PRUNED", null, Map.of("lr_scheduler_type", "linear"), new TreeMap<>(Map.of(1, 0.7)))), 0, null);
        XYChart c = Charts.parameter(r, "lr_scheduler_type");
        assertEquals("cosine", c.getStyler().getxAxisTickLabelsFormattingFunction().apply(0.0));
        assertEquals("linear", c.getStyler().getxAxisTickLabelsFormattingFunction().apply(1.0));
        assertArrayEquals(new double[] {0, 1}, c.getSeriesMap().get("categories").getXData(), "a tick at every choice");
    }

    @Test
    void prunedCurvesAreDashedAndEndInACross() {
        XYChart c = Charts.learningCurves(study());
        XYSeries pruned = c.getSeriesMap().get("pruned trials (x: stopped)");
        assertNotNull(pruned, c.getSeriesMap().keySet().toString());
        assertTrue(((BasicStroke) pruned.getLineStyle()).getDashArray() != null, "dashed");
        assertArrayEquals(new double[] {1}, c.getSeriesMap().get("stopped 1").getXData());
        assertNotNull(c.getSeriesMap().get("best trial (2)"), "the best trial has its own entry");
    }

    @Test
    void tickLabelsHaveTheDecimalsTheRangeNeeds() {
        assertEquals("0.69330", Charts.tickFormat(0.69322, 0.69386).apply(0.6933));
        assertEquals("0.85", Charts.tickFormat(0.6, 0.9).apply(0.85));
        assertEquals("12", Charts.tickFormat(0, 40).apply(12.0));
        assertEquals("5.00e-05", Charts.tickFormat(1e-5, 1e-4).apply(5e-5));
    }

    @Test
    void theTableListsTrialsBestFirstWithThePrunedOnesLastValueInParentheses(@TempDir Path dir) throws Exception {
        ReportWriter.write(dir, study());
        String html = Files.readString(dir.resolve("report.html"));
        int t2 = html.indexOf("<tr><th>2</th>");
        int t3 = html.indexOf("<tr><th>3</th>");
        int t0 = html.indexOf("<tr><th>0</th>");
        int t1 = html.indexOf("<tr><th>1</th>");
        assertTrue(0 < t2 && t2 < t3 && t3 < t0 && t0 < t1, "2 (0.7), 3 (0.6), 0 (0.5), then pruned 1");
        assertTrue(html.substring(t1).startsWith("<tr><th>1</th><td>PRUNED</td><td class=\"num\">(0.4000)</td>"), html.substring(t1, t1 + 120));
        assertTrue(html.contains("best parameters: learning_rate <b>0.0010</b>"), "the best trial's parameters in the header");
    }
}
