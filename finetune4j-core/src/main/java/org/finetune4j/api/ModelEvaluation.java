package org.finetune4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.DataException;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.Example;
import org.finetune4j.data.LabelMode;
import org.finetune4j.data.LabelSet;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.data.TextCleaner;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.metrics.ClassificationReport;
import org.finetune4j.train.Evaluation;

/**
 * Evaluates a trained classifier on labelled data, with the numbers and key names of the training run's
 * own final evaluation (eval_results.json, classification_report.txt/json): the code is shared with
 * {@link FineTuning}. The model's saved cleaning, max_length and decision threshold apply, as in
 * {@link TextClassifier}.
 *
 * <pre>
 * try (TextClassifier clf = TextClassifier.load(Path.of("runs/tweets-full"))) {
 *     ModelEvaluation.Result r = ModelEvaluation.evaluate(clf, Path.of("valid.csv"), ReadOptions.of("text", "target"), 64, null);
 *     System.out.print(r.text());          // scikit-learn's classification_report
 *     r.metrics().get("eval_f1");          // the positive class's F1 for a binary task
 * }
 * </pre>
 */
public final class ModelEvaluation {
    /** The key prefix of the metrics, as in eval_results.json. */
    public static final String PREFIX = "eval_";
    /** Written by {@link FineTuning#run} beside the model; {@link #heldOut} re-makes its splits from it. */
    public static final String RUN_CONFIG = "run_config.json";

    /** Reads run_config.json; it also holds derived values (a cleaner's "noop") that are not record components. */
    private static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ModelEvaluation() {
    }

    /**
     * One evaluation.
     *
     * @param source the data evaluated
     * @param metrics eval_results.json's flat metrics: eval_loss (unweighted cross-entropy, or BCE for
     *     multi-label), eval_accuracy, eval_f1, ..., eval_runtime, eval_samples_per_second
     * @param report the single-label report (per class, averages, confusion matrix, binary extras), or
     *     null for a multi-label model
     * @param text the report as scikit-learn prints it (classification_report.txt)
     * @param json the report as classification_report.json
     * @param probabilities N x C, in data order and label-id order
     * @param gold the gold class ids (single-label), else null
     */
    public record Result(String source, int examples, Map<String, Double> metrics, ClassificationReport report, String text,
            String json, float[][] probabilities, int[] gold) {
    }

    /** Reads a labelled file as {@code read} says (its label column must be set) and evaluates the model on it. */
    public static Result evaluate(TextClassifier classifier, Path file, ReadOptions read, int batchSize,
            Evaluation.Progress progress) {
        if (read.labelColumn() == null) {
            throw new DataException(file + ": evaluation needs labels; name the label column (--label-column)");
        }
        return evaluate(classifier, DataReader.read(file, read), batchSize, progress);
    }

    /**
     * Evaluates the model on labelled examples as read from a file: texts are cleaned by the classifier
     * (as the model was trained), so give them uncleaned. Every label must be one the model predicts.
     */
    public static Result evaluate(TextClassifier classifier, Dataset data, int batchSize, Evaluation.Progress progress) {
        if (!data.isLabelled()) {
            throw new DataException(data.source() + ": evaluation needs labelled data; name the label column (--label-column)");
        }
        if (data.size() == 0) {
            throw new DataException(data.source() + ": no examples to evaluate on");
        }
        List<String> labels = classifier.labels();
        boolean multi = classifier.config().problemType() == ProblemType.MULTI_LABEL;
        if (!multi && data.labelMode() == LabelMode.MULTI) {
            throw new DataException(data.source() + ": the data has several labels per example (a label separator was"
                    + " given) but the model is single-label (" + labels + "); leave out --label-separator");
        }
        LabelSet known = new LabelSet(labels);
        known.checkKnown(data);
        int[] gold = multi ? null : known.ids(data);
        boolean[][] goldSets = multi ? goldSets(data, known) : null;

        long t0 = System.nanoTime();
        float[][] logits = classifier.logits(data.texts(), data.pairs(), batchSize, progress);
        double seconds = (System.nanoTime() - t0) / 1e9;
        FineTuning.Final f = FineTuning.summarize(logits, gold, goldSets, labels, multi, null, 0.0,
                multi ? null : classifier.config().decisionThreshold(), PREFIX, seconds, null);
        return new Result(data.source(), data.size(), f.metrics(), f.report(), f.text(), f.json(), f.probs(), gold);
    }

    private static boolean[][] goldSets(Dataset data, LabelSet known) {
        boolean[][] out = new boolean[data.size()][known.size()];
        for (int i = 0; i < out.length; i++) {
            for (String l : data.get(i).labels()) {
                out[i][known.indexOf(l)] = true;
            }
        }
        return out;
    }

    /** The files {@link #write} writes, named as training names its final evaluation's. */
    public static final List<String> FILES = List.of("eval_results.json", "classification_report.txt",
            "classification_report.json");

    /** Fails before any work is done when {@code dir} already holds results that may not be replaced. */
    public static void checkWritable(Path dir, boolean overwrite) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(dir + " is a file; give a directory for the evaluation results");
        }
        for (String name : FILES) {
            if (!overwrite && Files.exists(dir.resolve(name))) {
                throw new IllegalArgumentException(dir.resolve(name) + " already exists; choose another directory, or pass"
                        + " --overwrite to replace it");
            }
        }
    }

    /** Writes eval_results.json (the metrics) and classification_report.txt/.json into {@code dir}, each atomically. */
    public static void write(Result r, Path dir, boolean overwrite) {
        checkWritable(dir, overwrite);
        FineTuning.writeJson(dir.resolve(FILES.get(0)), r.metrics());
        AtomicFiles.writeString(dir.resolve(FILES.get(1)), r.text());
        AtomicFiles.writeString(dir.resolve(FILES.get(2)), r.json());
    }

    // ---- a run's own held-out data --------------------------------------------------------------------

    /**
     * The validation or test examples of a training run, uncleaned as in the file: from the file the run
     * was given, or re-made from its {@code --split} exactly as training made it (same reading, cleaning,
     * de-duplication and seed, from run_config.json), then looked up in the file by line.
     *
     * @param runDir a directory written by {@code ./finetune4j train} (the model, or a LoRA adapter)
     * @param part "validation" or "test"
     */
    public static Dataset heldOut(Path runDir, String part) {
        if (!part.equals("validation") && !part.equals("test")) {
            throw new IllegalArgumentException("the held-out part must be validation or test, got " + part);
        }
        Path f = runDir.resolve(RUN_CONFIG);
        if (!Files.isRegularFile(f)) {
            throw new CheckpointException(runDir + " has no " + RUN_CONFIG + ", so its training data is unknown: the held-out"
                    + " split can only be re-made for a directory written by ./finetune4j train. Give the data with --data FILE.");
        }
        JsonNode d;
        ReadOptions read;
        TextCleaner cleaner;
        long seed;
        try {
            JsonNode rc = SNAKE.readTree(f.toFile());
            d = rc.path("data");
            read = SNAKE.treeToValue(d.get("read"), ReadOptions.class);
            cleaner = SNAKE.treeToValue(d.get("cleaning"), TextCleaner.class);
            seed = d.has("split_seed") ? d.get("split_seed").asLong() : rc.path("training").path("seed").asLong();
        } catch (IOException | IllegalArgumentException | NullPointerException e) {
            throw new CheckpointException(f + ": cannot read the run's data settings (" + e.getMessage() + ")");
        }
        String given = d.path(part).isTextual() ? d.get(part).asText() : null;
        if (given != null) {
            return DataReader.read(existing(Path.of(given), f), read);
        }
        double[] split = d.path("split").isArray() ? SNAKE.convertValue(d.get("split"), double[].class) : null;
        if (split == null || (part.equals("test") && split.length < 3)) {
            throw new IllegalArgumentException(runDir + ": the run had no " + part + " data (" + RUN_CONFIG + ": no " + part
                    + " file and no " + (part.equals("test") ? "three-way " : "") + "split); give the data with --data FILE");
        }
        Path train = existing(Path.of(d.path("train").asText()), f);
        DataSpec spec = new DataSpec(train, null, null, split, read, cleaner, d.path("drop_duplicates").asBoolean(true),
                d.path("drop_empty").asBoolean(true));
        FineTuning.Prepared prepared = FineTuning.prepare(spec, seed, message -> { });
        Dataset cleaned = part.equals("validation") ? prepared.validation() : prepared.test();
        Dataset raw = DataReader.read(train, read);
        Map<Long, Example> byLine = new HashMap<>();
        raw.examples().forEach(e -> byLine.put(e.line(), e));
        List<Example> out = new ArrayList<>(cleaned.size());
        for (Example e : cleaned.examples()) {
            out.add(byLine.get(e.line()));
        }
        return new Dataset(train + " (" + part + " split " + java.util.Arrays.toString(split) + ", seed " + seed + ")", out,
                raw.labelMode());
    }

    private static Path existing(Path file, Path runConfig) {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException(runConfig + " names the data file " + file + ", which is not there (a relative path"
                    + " is relative to where training ran); run from that directory, or give the data with --data FILE");
        }
        return file;
    }
}
