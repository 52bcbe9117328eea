package org.finetune4j.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.finetune4j.api.ModelEvaluation;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.data.Dataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Evaluates a trained model on a labelled file and prints the classification report. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Evaluate a trained classifier on labelled data: scikit-learn's classification report, confusion"
                + " matrix and, for a binary task, positive-class F1, specificity, FPR and ROC-AUC.",
                "The model's saved text cleaning, max_length and decision threshold apply."})
final class EvaluateCommand implements Callable<Integer> {
    @Mixin
    ClassifierOptions classifier = new ClassifierOptions();

    @Option(names = "--data", description = "Labelled file (CSV, TSV, JSON Lines; .gz allowed).")
    Path data;

    @Option(names = "--held-out", description = "Instead of --data: the run's own validation or test split, re-made"
            + " from its run_config.json as training made it (the run's own column and format settings apply).")
    String heldOut;

    @Mixin
    DataOptions read = new DataOptions();

    @Option(names = "--batch-size", defaultValue = "64", description = "Texts per forward pass.")
    int batchSize;

    @Option(names = "--json", description = "Print eval_results.json's metrics (eval_loss, eval_accuracy, eval_f1, ...)"
            + " instead of the report.")
    boolean json;

    @Option(names = "--output-dir", description = "Also write eval_results.json and classification_report.txt/.json here.")
    Path outputDir;

    @Option(names = "--overwrite", description = "Replace earlier results in --output-dir.")
    boolean overwrite;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() {
        if ((data == null) == (heldOut == null)) {
            throw new UserError("give the labelled data with --data FILE, or --held-out validation|test for a run's own split");
        }
        if (outputDir != null) {
            ModelEvaluation.checkWritable(outputDir, overwrite);
        }
        ConsoleListener progress = new ConsoleListener(quiet || json);
        Path modelDir = classifier.modelDir();
        ModelEvaluation.Result r;
        try (TextClassifier clf = classifier.load(modelDir)) {
            Dataset examples = heldOut != null ? ModelEvaluation.heldOut(classifier.adapter != null ? classifier.adapter : modelDir, heldOut)
                    : null;
            r = examples != null ? ModelEvaluation.evaluate(clf, examples, batchSize, progress::onEvaluationProgress)
                    : ModelEvaluation.evaluate(clf, data, read.toReadOptions(true), batchSize, progress::onEvaluationProgress);
        }
        if (outputDir != null) {
            ModelEvaluation.write(r, outputDir, overwrite);
        }
        if (json) {
            System.out.println(Reports.json(r.metrics()));
            return 0;
        }
        System.out.println("Evaluation of " + classifier.describe() + " on " + r.source() + " ("
                + r.examples() + " examples)");
        System.out.println(r.text());
        if (r.report() != null) {
            System.out.println("Confusion matrix (rows: true label, columns: predicted)");
            System.out.println(r.report().confusionMatrix().toText());
            if (r.report().binary() != null) {
                System.out.println(r.report().binary().toText(4));
            }
        }
        Map<String, Double> m = new LinkedHashMap<>(r.metrics());
        System.out.printf("loss %.4f; %.1f examples/s%n", m.get("eval_loss"), m.get("eval_samples_per_second"));
        if (outputDir != null) {
            System.out.println("eval_results.json and classification_report.txt/.json in " + outputDir);
        }
        return 0;
    }
}
