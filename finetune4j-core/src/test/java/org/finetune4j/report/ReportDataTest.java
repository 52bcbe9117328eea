package org.finetune4j.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.metrics.RocCurve;
import org.junit.jupiter.api.Test;

/** The input records' checks, and how the log history is read into chart series. */
class ReportDataTest {

    @Test
    void confusionMatrixMustMatchTheLabelNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RunReport.builder("r")
                .labelNames(List.of("a", "b", "c")).confusionMatrix(new int[][] {{1, 2}, {3, 4}}).build());
        assertTrue(e.getMessage().contains("2 x 2 but there are 3 label names"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> RunReport.builder("r")
                .labelNames(List.of("a", "b")).confusionMatrix(new int[][] {{1, 2}, {3}}).build());
        assertTrue(e.getMessage().contains("row 1 (true label \"b\") has 1 columns, expected 2"), e.getMessage());
    }

    @Test
    void labelNamesMustBeDistinct() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RunReport.builder("r").labelNames(List.of("a", "a")).build());
        assertTrue(e.getMessage().contains("label names must be distinct"), e.getMessage());
    }

    @Test
    void curvesAreForBinaryTasksOnly() {
        RocCurve roc = RocCurve.of(new int[] {0, 1}, new double[] {0.2, 0.4});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RunReport.builder("r").labelNames(List.of("a", "b", "c")).roc(roc).build());
        assertTrue(e.getMessage().contains("for binary tasks"), e.getMessage());
    }

    @Test
    void theReportKeepsItsOwnCopies() {
        int[][] cm = {{1, 2}, {3, 4}};
        RunReport r = RunReport.builder("r").labelNames(List.of("a", "b")).confusionMatrix(cm).build();
        cm[0][0] = 99;
        r.confusionMatrix()[0][1] = 99;
        assertArrayEquals(new int[] {1, 2}, r.confusionMatrix()[0]);
    }

    @Test
    void comparisonStrategiesMustHaveDistinctNames() {
        ComparisonReport.Row lora = SampleReports.comparison().rows().get(3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ComparisonReport("c", null, null, List.of(lora, lora), null));
        assertTrue(e.getMessage().contains("two rows are named \"lora\""), e.getMessage());
    }

    @Test
    void aComparisonRowNamesTheMeasurementThatWasNotSet() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ComparisonReport.Row.builder("full").trainableParams(1).build());
        assertTrue(e.getMessage().contains("comparison row \"full\": trainable % was not set"), e.getMessage());
    }

    @Test
    void evalCurveFromALogHistory() {
        ComparisonReport.EvalCurve c = ComparisonReport.EvalCurve.fromLogHistory("full", SampleReports.threeEpochLog(true));
        assertArrayEquals(new double[] {1, 2, 3}, c.epochs());
        assertArrayEquals(new double[] {0.4312, 0.4105, 0.4563}, c.evalLoss());

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ComparisonReport.EvalCurve.fromLogHistory("frozen", SampleReports.threeEpochLog(false)));
        assertTrue(e.getMessage().contains("strategy \"frozen\""), e.getMessage());
    }

    @Test
    void logHistorySplitsTrainingAndEvaluationRecords() {
        LogHistory log = new LogHistory(SampleReports.threeEpochLog(true));

        assertEquals("step", log.axis());
        assertEquals(25, log.training().size(), "a record every 50 of 1,287 steps");
        assertEquals(3, log.evaluations().size());
        // Timings, the loss and a threshold are not metrics in [0, 1].
        assertEquals(List.of("eval_accuracy", "eval_f1", "eval_precision", "eval_recall", "eval_macro_f1"), log.fractionMetrics());
        assertArrayEquals(new double[] {429, 858, 1287}, log.evalSeries("eval_accuracy").x());
        assertEquals(log.training().get(7).get("loss"), log.trainingLossAt(429), "training loss logged at step 400");
    }

    @Test
    void logHistoryFallsBackToEpochsThenRecordOrder() {
        Map<String, Object> a = new LinkedHashMap<>(Map.of("loss", 0.7, "epoch", 0.5));
        Map<String, Object> b = new LinkedHashMap<>(Map.of("loss", 0.6, "epoch", 1.0));
        assertEquals("epoch", new LogHistory(List.of(a, b)).axis());

        LogHistory byOrder = new LogHistory(List.of(Map.of("loss", 0.7), Map.of("loss", 0.7)));
        assertEquals("log record", byOrder.axis());
        assertArrayEquals(new double[] {1, 2}, byOrder.trainingSeries("loss").x(), "equal records keep their own positions");
    }

    @Test
    void aMetricOutsideZeroToOneIsNotChartedAsAScore() {
        LogHistory log = new LogHistory(List.of(
                Map.of("eval_accuracy", 0.8, "eval_perplexity", 12.5, "eval_runtime", 0.4, "step", 10)));
        assertEquals(List.of("eval_accuracy"), log.fractionMetrics());
    }
}
