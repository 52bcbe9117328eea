package org.finetune4j.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.finetune4j.api.Prediction;
import org.finetune4j.api.PredictionFiles;
import org.finetune4j.api.TextClassifier;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.Example;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Predicts labels for a file (to CSV, or a Kaggle submission) or for texts given on the command line (to JSON). */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Predict with a trained classifier: a file to a CSV of id,label,score[,prob_<label>...] or a"
                + " Kaggle-style submission, or --text to JSON lines (label, score, scores).",
                "The model's saved text cleaning, max_length and decision threshold apply."})
final class PredictCommand implements Callable<Integer> {
    @Mixin
    ClassifierOptions classifier = new ClassifierOptions();

    @Option(names = "--data", description = "File to predict on (CSV, TSV, JSON Lines; .gz allowed); labels are not needed.")
    Path data;

    @Option(names = "--text", description = "A text to predict (repeatable); prints one JSON object per text.")
    List<String> texts = new ArrayList<>();

    @Mixin
    DataOptions read = new DataOptions();

    @Option(names = "--output", description = "CSV file to write (with --data).")
    Path output;

    @Option(names = "--probabilities", description = "Add one prob_<label> column per class.")
    boolean probabilities;

    @Option(names = "--submission", description = "Write only the id and the predicted label, under --submission-columns.")
    boolean submission;

    @Option(names = "--submission-columns", split = ",", defaultValue = "id,label",
            description = "The submission's two column names: id column, label column (e.g. id,target).")
    List<String> submissionColumns;

    @Option(names = "--overwrite", description = "Replace --output if it exists.")
    boolean overwrite;

    @Option(names = "--batch-size", defaultValue = "64", description = "Texts per forward pass.")
    int batchSize;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar or summary line.")
    boolean quiet;

    @Override
    public Integer call() {
        if (texts.isEmpty() == (data == null)) {
            throw new UserError("give either --data FILE (with --output FILE) or --text \"...\"");
        }
        if (data != null && output == null) {
            throw new UserError("--data needs --output FILE: where to write the predictions (CSV)");
        }
        if (data == null && (output != null || submission || probabilities)) {
            throw new UserError("--output, --submission and --probabilities apply to --data; --text prints JSON");
        }
        if (submission && submissionColumns.size() != 2) {
            throw new UserError("--submission-columns needs exactly two names, the id and the label column (e.g. id,target);"
                    + " got " + submissionColumns);
        }
        if (submission && probabilities) {
            throw new UserError("a --submission has only the id and label columns; leave out --probabilities");
        }
        if (output != null) {
            PredictionFiles.checkWritable(output, overwrite); // before the model runs, not after
        }
        try (TextClassifier clf = classifier.load(classifier.modelDir())) {
            if (data == null) {
                boolean multi = clf.config().problemType() == ProblemType.MULTI_LABEL;
                for (Prediction p : clf.predictBatch(texts, null, batchSize, null)) {
                    Map<String, Object> j = new LinkedHashMap<>();
                    j.put("label", p.label());
                    j.put("score", p.score());
                    if (multi) {
                        j.put("labels", p.labels());
                    }
                    j.put("scores", p.scores());
                    System.out.println(Reports.compactJson(j));
                }
                return 0;
            }
            Dataset rows = DataReader.read(data, read.toReadOptions(false));
            ConsoleListener progress = new ConsoleListener(quiet, "predict");
            List<Prediction> predictions = clf.predictBatch(rows.texts(), rows.pairs(), batchSize, progress::onEvaluationProgress);
            List<String> ids = rows.examples().stream().map(Example::id).toList();
            if (submission) {
                PredictionFiles.writeSubmission(output, ids, predictions, submissionColumns.get(0), submissionColumns.get(1),
                        overwrite);
            } else {
                PredictionFiles.writeCsv(output, ids, predictions, clf.labels(), probabilities, overwrite);
            }
            if (!quiet) {
                Map<String, Integer> counts = new TreeMap<>();
                predictions.forEach(p -> p.labels().forEach(l -> counts.merge(l, 1, Integer::sum)));
                System.err.println(predictions.size() + " predictions written to " + output + " (predicted labels: " + counts + ")");
            }
        }
        return 0;
    }
}
