package org.finetune4j.report;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.finetune4j.metrics.PrecisionRecallCurve;
import org.finetune4j.metrics.RocCurve;

/**
 * Hand-made report data for tests and for the example screenshot in docs/: a seeded, made-up
 * 3-epoch run whose numbers look like a DistilBERT run on disaster tweets (the validation confusion
 * matrix is the one in the disaster-tweets notebook of shared/seeds). Nothing here was trained.
 * {@link #main} writes the sample reports into a directory.
 */
public final class SampleReports {
    static final List<String> BINARY_LABELS = List.of("not disaster", "disaster");
    static final int[][] BINARY_MATRIX = {{358, 59}, {76, 269}};
    static final String SCRIPT = "<script>alert(1)</script>";

    private SampleReports() {
    }

    /** Writes {@code run/} (binary), {@code run-3class/}, {@code run-no-validation/} and {@code compare/} under the given directory. */
    public static void main(String[] args) {
        Path out = Path.of(args.length > 0 ? args[0] : "target/sample-report");
        ReportWriter.write(out.resolve("run"), binaryRun());
        ReportWriter.write(out.resolve("run-3class"), threeClassRun());
        ReportWriter.write(out.resolve("run-no-validation"), runWithoutValidation());
        ReportWriter.write(out.resolve("compare"), comparison());
        System.out.println("sample reports written under " + out.toAbsolutePath());
    }

    /**
     * A made-up metrics.jsonl of a 3-epoch run: 6,851 training examples at batch 16 (429 steps per
     * epoch), a record every 50 steps, linear learning-rate decay from 5e-5, and an evaluation at the
     * end of each epoch whose loss rises again in epoch 3 (mild overfitting, as in the notebooks).
     */
    static List<Map<String, Object>> threeEpochLog(boolean withEvaluation) {
        Random rnd = new Random(42);
        int stepsPerEpoch = 429;
        int total = 3 * stepsPerEpoch;
        double[][] evals = { // eval_loss, accuracy, f1, precision, recall
            {0.4312, 0.8136, 0.7808, 0.8090, 0.7546},
            {0.4105, 0.8228, 0.7994, 0.8201, 0.7797},
            {0.4563, 0.8189, 0.7957, 0.8130, 0.7797}};
        List<Map<String, Object>> log = new ArrayList<>();
        for (int step = 50, e = 1; step <= total || e <= 3; step += 50) {
            if (e <= 3 && (step > e * stepsPerEpoch || step > total)) {
                int at = e * stepsPerEpoch;
                if (withEvaluation) {
                    double[] v = evals[e - 1];
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("eval_loss", v[0]);
                    r.put("eval_accuracy", v[1]);
                    r.put("eval_f1", v[2]);
                    r.put("eval_precision", v[3]);
                    r.put("eval_recall", v[4]);
                    r.put("eval_macro_f1", round(v[1] - 0.004));
                    r.put("eval_runtime", round(9.8 + rnd.nextDouble()));
                    r.put("eval_samples_per_second", round(762 / 10.2));
                    r.put("eval_steps_per_second", round(24 / 10.2));
                    r.put("epoch", (double) e);
                    r.put("step", at);
                    log.add(r);
                }
                e++;
                step -= 50;
                continue;
            }
            double progress = (double) step / total;
            double epoch = (double) step / stepsPerEpoch;
            // Falls fast in epoch 1, then slowly; drops a step at each epoch boundary (examples seen again).
            double loss = 0.30 + 0.38 * Math.exp(-6 * progress) - 0.04 * Math.floor(epoch) + 0.03 * rnd.nextGaussian();
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("loss", round(Math.max(0.05, loss)));
            r.put("grad_norm", round(2.0 + 3.0 * rnd.nextDouble()));
            r.put("learning_rate", 5e-5 * (1 - (double) step / total));
            r.put("epoch", round(epoch));
            r.put("step", step);
            log.add(r);
        }
        return log;
    }

    static RunReport binaryRun() {
        return binaryRunBuilder().build();
    }

    /** The binary run as a finished train run reports it: with test metrics and the best checkpoint's step. */
    static RunReport binaryRunWithTestSet() {
        Map<String, Double> test = new LinkedHashMap<>();
        test.put("test_loss", 0.4311);
        test.put("test_accuracy", 0.8093);
        test.put("test_macro_f1", 0.8012);
        return binaryRunBuilder().testMetrics(test).trained(new RunReport.Trained(3.0, 1287, 858L)).build();
    }

    private static RunReport.Builder binaryRunBuilder() {
        Scores s = scores(BINARY_MATRIX, 7);
        return RunReport.builder("distilbert-disaster-tweets-full")
                .modelId("distilbert-base-uncased")
                .strategy("full")
                .dataset("disaster tweets (made-up sample): 6,851 train / 762 validation")
                .logHistory(threeEpochLog(true))
                .finalMetrics(finalMetrics())
                .labelNames(BINARY_LABELS)
                .confusionMatrix(BINARY_MATRIX)
                .classificationReport(classificationReport(List.of("0", "1"), BINARY_MATRIX))
                .roc(s.roc())
                .precisionRecall(s.pr())
                .misclassified(List.of(
                        new Misclassified("I'm on fire today! Three goals and an assist #blessed", "not disaster", "disaster", 0.9712),
                        new Misclassified("Forest fire near La Ronge Sask. Canada", "disaster", "not disaster", 0.6120),
                        new Misclassified("That concert was a total disaster lol never again", "not disaster", "disaster", 0.9350),
                        new Misclassified("Flood warning lifted for the county, roads reopening " + SCRIPT, "disaster", "not disaster", 0.7405),
                        new Misclassified("my phone just exploded with notifications after that tweet", "not disaster", "disaster", 0.8801),
                        new Misclassified("Emergency crews on scene after the train derailed near the station; no injuries reported so far",
                                "disaster", "not disaster", 0.5533)))
                .facts(facts())
                .trainingConfig(trainingConfig());
    }

    static RunReport threeClassRun() {
        int[][] cm = {{412, 38, 21}, {45, 301, 52}, {18, 41, 372}};
        List<String> labels = List.of("negative", "neutral", "positive");
        Map<String, Double> fin = new LinkedHashMap<>();
        fin.put("eval_loss", 0.5521);
        fin.put("eval_accuracy", 0.8472);
        fin.put("eval_macro_f1", 0.8421);
        return RunReport.builder("bert-sentiment-3class-lora")
                .modelId("bert-base-uncased")
                .strategy("lora")
                .dataset("3-class sentiment (made-up sample)")
                .logHistory(threeEpochLog(true))
                .finalMetrics(fin)
                .labelNames(labels)
                .confusionMatrix(cm)
                .classificationReport(classificationReport(labels, cm))
                .misclassified(List.of(new Misclassified("it was fine, I guess", "neutral", "positive", 0.66)))
                .build();
    }

    static RunReport runWithoutValidation() {
        return RunReport.builder("distilbert-no-validation")
                .modelId("distilbert-base-uncased")
                .strategy("frozen")
                .logHistory(threeEpochLog(false))
                .facts(Map.of("train time", "2m 03s"))
                .build();
    }

    static ComparisonReport comparison() {
        List<ComparisonReport.Row> rows = List.of(
                row("full", 66_955_010, 100.0, 372.4, 55.2, 1912, 255.4, 0.8228, 0.8188, 0.7994),
                row("frozen", 1_538, 0.0023, 118.9, 172.8, 1020, 0.01, 0.7703, 0.7621, 0.7288),
                row("partial", 21_266_690, 31.76, 241.0, 85.3, 1544, 81.2, 0.8163, 0.8120, 0.7911),
                row("lora", 740_356, 1.09, 205.7, 99.9, 1190, 2.9, 0.8150, 0.8109, 0.7902));
        List<Map<String, Object>> log = threeEpochLog(true);
        List<ComparisonReport.EvalCurve> curves = new ArrayList<>();
        double[] shift = {0, 0.09, 0.02, 0.015};
        for (int i = 0; i < rows.size(); i++) {
            ComparisonReport.EvalCurve base = ComparisonReport.EvalCurve.fromLogHistory(rows.get(i).strategy(), log);
            double[] loss = base.evalLoss();
            for (int j = 0; j < loss.length; j++) {
                loss[j] += shift[i] - (i == 1 ? 0.03 * j : 0);
            }
            curves.add(new ComparisonReport.EvalCurve(base.strategy(), base.epochs(), loss));
        }
        return new ComparisonReport("Strategy comparison: disaster tweets", "distilbert-base-uncased",
                "disaster tweets (made-up sample): 6,851 train / 762 validation", rows, curves);
    }

    private static ComparisonReport.Row row(String strategy, long params, double pct, double wall, double sps, double rss,
            double saved, double acc, double macro, double pos) {
        return ComparisonReport.Row.builder(strategy).trainableParams(params).trainablePercent(pct).wallTimeSeconds(wall)
                .trainSamplesPerSecond(sps).peakRssMb(rss).savedSizeMb(saved).validationAccuracy(acc).macroF1(macro)
                .positiveClassF1(pos).build();
    }

    private static Map<String, Double> finalMetrics() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("eval_loss", 0.4105);
        m.put("eval_accuracy", 0.8228);
        m.put("eval_f1", 0.7994);
        m.put("eval_precision", 0.8201);
        m.put("eval_recall", 0.7797);
        m.put("eval_macro_f1", 0.8188);
        m.put("eval_runtime", 10.21);
        m.put("eval_samples_per_second", 74.63);
        m.put("epoch", 3.0);
        return m;
    }

    private static Map<String, String> facts() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("train time", "6m 12s");
        f.put("train samples/s", "55.2");
        f.put("peak RSS", "1,912 MB");
        f.put("trainable params", "66,955,010 of 66,955,010 (100%)");
        f.put("best checkpoint", "checkpoint-858 (epoch 2, lowest eval_loss)");
        f.put("seed", "42");
        f.put("device", "CPU, 16 threads");
        return f;
    }

    private static Map<String, Object> trainingConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("strategy", "full");
        c.put("num_train_epochs", 3);
        c.put("per_device_train_batch_size", 16);
        c.put("learning_rate", 5e-5);
        c.put("weight_decay", 0.01);
        c.put("lr_scheduler_type", "linear");
        c.put("eval_strategy", "epoch");
        c.put("logging_steps", 50);
        c.put("load_best_model_at_end", true);
        c.put("seed", 42);
        return c;
    }

    record Scores(RocCurve roc, PrecisionRecallCurve pr) {
    }

    /**
     * Made-up positive-class scores whose 0.5 threshold reproduces the confusion matrix, and the ROC
     * and precision-recall curves of those scores.
     */
    static Scores scores(int[][] cm, long seed) {
        Random rnd = new Random(seed);
        int n = cm[0][0] + cm[0][1] + cm[1][0] + cm[1][1];
        int[] gold = new int[n];
        double[] scores = new double[n];
        int i = 0;
        for (int t = 0; t < 2; t++) {
            for (int p = 0; p < 2; p++) {
                for (int k = 0; k < cm[t][p]; k++) {
                    // Confident where right, less so where wrong: a skewed draw on the predicted side of 0.5.
                    double u = Math.pow(rnd.nextDouble(), t == p ? 0.6 : 1.6);
                    gold[i] = t;
                    scores[i] = p == 1 ? 0.5 + 0.4999 * u : 0.4999 - 0.4999 * u;
                    i++;
                }
            }
        }
        return new Scores(RocCurve.of(gold, scores), PrecisionRecallCurve.of(gold, scores));
    }

    /** The text of scikit-learn's {@code classification_report} for a confusion matrix. */
    static String classificationReport(List<String> names, int[][] cm) {
        int n = names.size();
        int width = Math.max(12, names.stream().mapToInt(String::length).max().orElse(0));
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%" + width + "s %9s %9s %9s %9s%n%n", "", "precision", "recall", "f1-score", "support"));
        long total = Arrays.stream(cm).flatMapToInt(Arrays::stream).sum();
        long correct = 0;
        double[] sumMacro = new double[3];
        double[] sumWeighted = new double[3];
        for (int i = 0; i < n; i++) {
            int support = Arrays.stream(cm[i]).sum();
            int predicted = 0;
            for (int[] row : cm) {
                predicted += row[i];
            }
            correct += cm[i][i];
            double p = predicted == 0 ? 0 : (double) cm[i][i] / predicted;
            double r = support == 0 ? 0 : (double) cm[i][i] / support;
            double f = p + r == 0 ? 0 : 2 * p * r / (p + r);
            double[] v = {p, r, f};
            for (int k = 0; k < 3; k++) {
                sumMacro[k] += v[k] / n;
                sumWeighted[k] += v[k] * support / total;
            }
            b.append(String.format(Locale.ROOT, "%" + width + "s %9.2f %9.2f %9.2f %9d%n", names.get(i), p, r, f, support));
        }
        b.append('\n');
        b.append(String.format(Locale.ROOT, "%" + width + "s %9s %9s %9.2f %9d%n", "accuracy", "", "", (double) correct / total, total));
        b.append(String.format(Locale.ROOT, "%" + width + "s %9.2f %9.2f %9.2f %9d%n", "macro avg", sumMacro[0], sumMacro[1], sumMacro[2], total));
        b.append(String.format(Locale.ROOT, "%" + width + "s %9.2f %9.2f %9.2f %9d%n", "weighted avg", sumWeighted[0], sumWeighted[1], sumWeighted[2], total));
        return b.toString();
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
