package org.finetune4j.api;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.Batches;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.Deduplicator;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.data.LabelSet;
import org.finetune4j.data.Splits;
import org.finetune4j.data.TextCleaner;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.ProcessMemory;
import org.finetune4j.lora.Lora;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.metrics.ClassificationMetrics;
import org.finetune4j.metrics.ClassificationReport;
import org.finetune4j.metrics.MultiLabelMetrics;
import org.finetune4j.metrics.MultiLabelReport;
import org.finetune4j.metrics.PrecisionRecallCurve;
import org.finetune4j.metrics.RocCurve;
import org.finetune4j.metrics.ThresholdSearch;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.report.Misclassified;
import org.finetune4j.report.ReportWriter;
import org.finetune4j.report.RunReport;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.train.AdapterCheckpointFormat;
import org.finetune4j.train.CachedFeatureExamples;
import org.finetune4j.train.CheckpointFormat;
import org.finetune4j.train.Evaluation;
import org.finetune4j.train.Examples;
import org.finetune4j.train.Losses;
import org.finetune4j.train.ModelCheckpointFormat;
import org.finetune4j.train.StandardMetrics;
import org.finetune4j.train.Strategies;
import org.finetune4j.train.TokenizedExamples;
import org.finetune4j.train.Trainer;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;

/**
 * A whole fine-tuning run, as one call: prepare the data, load the pre-trained model with a new head,
 * apply the strategy, train, pick the decision threshold, evaluate, and write the model, metrics and
 * report in Hugging Face layout. The command line's {@code train} is a thin wrapper around this.
 */
public final class FineTuning {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    /** Validation examples listed in the report and misclassified.csv, most confident mistakes first. */
    private static final int MISCLASSIFIED_SHOWN = 25;

    /**
     * The head to put on the encoder.
     *
     * @param type "standard" (the architecture's own ForSequenceClassification head) or "mlp"
     *     (hidden -> hiddenSize -> ReLU -> dropout -> classes, as one notebook builds it)
     * @param pooling null for the head's default (the standard head's own; mean for mlp)
     * @param hiddenSize the MLP's width (mlp only)
     * @param dropout the MLP's dropout (mlp only; the standard head takes the config's)
     */
    public record HeadChoice(String type, Pooling pooling, int hiddenSize, double dropout) {
        public static final HeadChoice STANDARD = new HeadChoice("standard", null, 0, 0);

        public HeadChoice {
            if (!type.equals("standard") && !type.equals("mlp")) {
                throw new IllegalArgumentException("--head must be standard or mlp, got " + type);
            }
        }

        HeadConfig resolve(ModelConfig base) {
            HeadConfig std = HeadConfig.standard(base.encoder());
            if (type.equals("standard")) {
                return pooling == null ? std : new HeadConfig(std.type(), pooling, std.hiddenSize(), std.activation(), std.dropout());
            }
            return HeadConfig.mlp(pooling == null ? Pooling.MEAN : pooling, hiddenSize, dropout);
        }
    }

    /**
     * Everything a run needs.
     *
     * @param model a model directory or packaged id (see {@link ModelLocator})
     * @param lora LoRA settings when {@code training.strategy()} is "lora", else null
     * @param mergeLora also write a merged full model to {@code output/merged}
     * @param resumeFrom null, "latest", or a checkpoint directory
     */
    public record Spec(String model, DataSpec data, HeadChoice head, boolean multiLabel, TrainingConfig training,
            LoraConfig lora, boolean mergeLora, Path output, boolean overwrite, String resumeFrom) {
        public Spec {
            if (training.strategy().equals("lora") && lora == null) {
                throw new IllegalArgumentException("the lora strategy needs LoRA settings");
            }
            if (!training.strategy().equals("lora") && (lora != null || mergeLora)) {
                throw new IllegalArgumentException("LoRA options need --strategy lora");
            }
        }
    }

    private FineTuning() {
    }

    /** The data of a run after reading, cleaning, de-duplication and splitting. */
    public record Prepared(Dataset train, Dataset validation, Dataset test, LabelSet labels) {
    }

    public static Prepared prepare(DataSpec d, long seed, Consumer<String> log) {
        Dataset train = readClean(d.train(), d, log, d.dropDuplicates());
        if (!train.isLabelled()) {
            throw new IllegalArgumentException(d.train() + ": the training data has no labels; name the label column"
                    + " with --label-column");
        }
        Dataset validation = d.validation() == null ? null : readClean(d.validation(), d, log, false);
        Dataset test = d.test() == null ? null : readClean(d.test(), d, log, false);
        if (d.split() != null) {
            List<Dataset> parts = Splits.stratified(train, d.split(), seed);
            train = parts.get(0);
            validation = parts.get(1);
            if (parts.size() == 3) {
                test = parts.get(2);
            }
            log.accept("stratified split (seed " + seed + "): train " + train.size() + ", validation " + validation.size()
                    + (parts.size() == 3 ? ", test " + test.size() : ""));
        }
        LabelSet labels = LabelSet.fromTraining(train);
        if (validation != null) {
            labels.checkKnown(validation);
        }
        if (test != null) {
            labels.checkKnown(test);
        }
        log.accept("labels: " + labels.names() + " — train class counts " + train.labelCounts());
        return new Prepared(train, validation, test, labels);
    }

    private static Dataset readClean(Path file, DataSpec d, Consumer<String> log, boolean dedupe) {
        Dataset data = d.cleaner().clean(DataReader.read(file, d.read()));
        if (d.dropEmpty()) {
            Deduplicator.Filtered f = Deduplicator.dropEmpty(data);
            if (f.dropped() > 0) {
                log.accept(file.getFileName() + ": dropped " + f.dropped() + " empty texts");
            }
            data = f.dataset();
        }
        if (dedupe) {
            Deduplicator.Result r = Deduplicator.dedupe(data, false);
            log.accept(file.getFileName() + ": " + r.summary());
            data = r.dataset();
        }
        if (data.size() == 0) {
            throw new IllegalArgumentException(file + ": no examples left after cleaning");
        }
        return data;
    }

    // ---------------------------------------------------------------------------------------------

    public static RunResult run(Spec spec, TrainerListener listener) {
        TrainingConfig cfg = spec.training();
        Consumer<String> log = listener::onMessage;
        long started = System.nanoTime();
        Path modelDir = ModelLocator.resolve(spec.model());
        Path resume = resumePath(spec);
        if (resume == null) {
            RunDirectory.prepare(spec.output(), spec.overwrite());
        }
        Prepared data = prepare(spec.data(), cfg.seed(), log);
        ProblemType problem = spec.multiLabel() ? ProblemType.MULTI_LABEL : ProblemType.SINGLE_LABEL;
        boolean multi = problem == ProblemType.MULTI_LABEL;

        ModelConfig base = ModelConfig.read(modelDir);
        HeadConfig head = spec.head().resolve(base);
        // Remembered with the model so predictions see texts as training did: same cleaning, same truncation.
        ObjectNode preprocessing = JSON.createObjectNode();
        preprocessing.put("max_length", cfg.maxLength());
        if (!spec.data().cleaner().equals(TextCleaner.NONE)) {
            preprocessing.set("text_cleaning", SNAKE.valueToTree(spec.data().cleaner()));
        }
        int positions = base.encoder().maxPositionEmbeddings()
                - (base.encoder().modelType().equals("roberta") ? base.encoder().padTokenId() + 1 : 0);
        if (cfg.maxLength() > positions) {
            throw new IllegalArgumentException("--max-length " + cfg.maxLength() + " exceeds the model's " + positions
                    + " positions");
        }
        try (NDManager manager = NDManager.newBaseManager();
                TextTokenizer tokenizer = TextTokenizer.load(modelDir, cfg.maxLength())) {
            tokenizer.checkCompatible(base.encoder().vocabSize(), modelDir.toString());
            EncodedDataset train = EncodedDataset.encode(data.train(), tokenizer, data.labels());
            EncodedDataset val = data.validation() == null ? null : EncodedDataset.encode(data.validation(), tokenizer, data.labels());
            EncodedDataset test = data.test() == null ? null : EncodedDataset.encode(data.test(), tokenizer, data.labels());
            if (train.truncatedCount() > 0) {
                log.accept(train.truncatedCount() + " of " + train.size() + " training texts were truncated to "
                        + cfg.maxLength() + " tokens (see ./finetune4j stats for the length distribution)");
            }

            TransformerModel.Loaded loaded = TransformerModel.fromPretrained(modelDir, manager,
                    c -> c.withClassifier(data.labels().names(), problem, head).withPreprocessing(preprocessing), true, cfg.seed());
            try (TransformerModel model = loaded.model()) {
                if (!loaded.report().missing().isEmpty()) {
                    log.accept(loaded.report().summary());
                }
                Set<String> newlyInitialized = new LinkedHashSet<>(loaded.report().missing());

                // The strategy decides what trains.
                Lora lora = null;
                List<Param> trainable;
                CheckpointFormat checkpoints;
                if (cfg.strategy().equals("lora")) {
                    LoraConfig lc = spec.lora().withBaseModel(spec.model());
                    if (newlyInitialized.stream().anyMatch(k -> k.contains("pooler.")) && !lc.modulesToSave().contains("pooler")) {
                        List<String> save = new ArrayList<>(lc.modulesToSave());
                        save.add("pooler"); // the pooler is new too: train and save it with the head
                        lc = lc.withModulesToSave(save);
                    }
                    lora = Lora.inject(model, lc, cfg.seed());
                    trainable = lora.makeTrainable();
                    checkpoints = new AdapterCheckpointFormat(lora, tokenizer, modelDir);
                } else {
                    trainable = Strategies.apply(model, cfg, newlyInitialized);
                    checkpoints = new ModelCheckpointFormat(model, tokenizer, modelDir);
                }
                // PEFT's print_trainable_parameters: "all params" includes the LoRA matrices.
                long total = model.parameters().count();
                long trainableCount = trainable.stream().mapToLong(Param::numel).sum();
                log.accept(String.format("trainable params: %,d || all params: %,d || trainable%%: %.4f", trainableCount, total,
                        100.0 * trainableCount / total));

                // What the loop iterates over: the frozen strategy trains the head on cached features.
                boolean cached = cfg.strategy().equals("frozen");
                Examples trainEx;
                Examples valEx;
                if (cached) {
                    boolean poolerTrains = Strategies.poolerTrains(model);
                    log.accept("frozen encoder: computing its features once for " + train.size() + " training and "
                            + (val == null ? 0 : val.size()) + " validation examples");
                    trainEx = CachedFeatureExamples.compute(model, train, poolerTrains, cfg.perDeviceEvalBatchSize(), manager,
                            listener::onEvaluationProgress);
                    valEx = val == null ? null : CachedFeatureExamples.compute(model, val, poolerTrains,
                            cfg.perDeviceEvalBatchSize(), manager, listener::onEvaluationProgress);
                } else {
                    trainEx = new TokenizedExamples(model, train);
                    valEx = val == null ? null : new TokenizedExamples(model, val);
                }
                float[] weights = classWeights(cfg, trainEx, data.labels().size(), multi);
                Batches.Order order = cfg.groupByLength() ? Batches.Order.LENGTH_GROUPED : Batches.Order.SHUFFLED;
                int[] lengths = train.lengths();
                Trainer.Setup setup = new Trainer.Setup(cfg, trainable, trainEx,
                        epoch -> Batches.plan(lengths, cfg.perDeviceTrainBatchSize(), order, cfg.seed(), epoch), valEx, multi,
                        weights, new StandardMetrics(data.labels().names(), multi, null), checkpoints, spec.output(), listener);
                Trainer trainer = new Trainer(setup, manager);
                AtomicFiles.writeString(spec.output().resolve(Trainer.TRAINING_ARGS_FILE), cfg.toJson());
                Trainer.Result result = trainer.train(resume);

                // The decision threshold, chosen on validation data (binary single-label only).
                if (cfg.tuneThreshold()) {
                    if (multi || data.labels().size() != 2 || valEx == null) {
                        throw new IllegalArgumentException("--tune-threshold needs a binary single-label task with validation data");
                    }
                    float[][] probs = Evaluation.softmax(Evaluation.logits(valEx, cfg.perDeviceEvalBatchSize(), manager, null));
                    ThresholdSearch.Result t = ThresholdSearch.bestF1(valEx.goldIds(), probs);
                    model.setDecisionThreshold(t.threshold());
                    log.accept(String.format("decision threshold %.4f maximises validation F1 (%.4f, vs %.4f at 0.5)",
                            t.threshold(), t.f1(), t.f1AtHalf()));
                }

                // Final evaluation of the model that is saved.
                Path out = spec.output();
                Map<String, Double> valMetrics = new LinkedHashMap<>();
                Map<String, Double> testMetrics = new LinkedHashMap<>();
                ClassificationReport valReport = null;
                ClassificationReport testReport = null;
                Final fv = null;
                if (valEx != null) {
                    fv = evaluate(valEx, data.labels().names(), multi, weights, cfg, model.config().decisionThreshold(), manager,
                            "eval_", result.epochs());
                    valMetrics = fv.metrics();
                    valReport = fv.report();
                    writeJson(out.resolve("eval_results.json"), valMetrics);
                    AtomicFiles.writeString(out.resolve("classification_report.txt"), fv.text());
                    AtomicFiles.writeString(out.resolve("classification_report.json"), fv.json());
                }
                if (test != null) {
                    Examples testEx = cached ? CachedFeatureExamples.compute(model, test, Strategies.poolerTrains(model),
                            cfg.perDeviceEvalBatchSize(), manager, null) : new TokenizedExamples(model, test);
                    Final ft = evaluate(testEx, data.labels().names(), multi, weights, cfg, model.config().decisionThreshold(),
                            manager, "test_", result.epochs());
                    testMetrics = ft.metrics();
                    testReport = ft.report();
                    writeJson(out.resolve("test_results.json"), testMetrics);
                    AtomicFiles.writeString(out.resolve("test_classification_report.txt"), ft.text());
                    AtomicFiles.writeString(out.resolve("test_classification_report.json"), ft.json());
                }

                // The trained model, in Hugging Face layout (or a PEFT adapter).
                checkpoints.save(out);
                if (lora != null && spec.mergeLora()) {
                    Path merged = out.resolve("merged");
                    lora.saveMerged(merged);
                    tokenizer.save(merged, modelDir);
                    log.accept("merged model (no LoRA needed to load it) written to " + merged);
                }
                double wall = (System.nanoTime() - started) / 1e9;
                Map<String, Object> facts = new LinkedHashMap<>();
                facts.put("model", spec.model());
                facts.put("strategy", cfg.strategy());
                facts.put("train_examples", train.size());
                facts.put("validation_examples", val == null ? 0 : val.size());
                facts.put("test_examples", test == null ? 0 : test.size());
                facts.put("trainable_params", trainableCount);
                facts.put("total_params", model.parameters().count());
                facts.put("trainable_percent", 100.0 * trainableCount / model.parameters().count());
                facts.put("global_step", result.globalStep());
                facts.put("epochs", result.epochs());
                facts.put("stopped_early", result.stoppedEarly());
                facts.put("best_checkpoint", result.bestCheckpoint() == null ? null : out.relativize(result.bestCheckpoint()).toString());
                facts.put("train_runtime_s", result.trainSeconds());
                facts.put("train_samples_per_second", result.samplesPerSecond());
                facts.put("train_tokens_per_second", result.realTokens() / Math.max(result.trainSeconds(), 1e-9));
                facts.put("padding_fraction", result.paddedTokens() == 0 ? 0.0
                        : 1.0 - (double) result.realTokens() / result.paddedTokens());
                facts.put("wall_time_s", wall);
                facts.put("peak_rss_mb", ProcessMemory.peakRssBytes() / 1e6);
                facts.put("saved_mb", directorySize(out, lora != null) / 1e6);
                writeJson(out.resolve("run_config.json"), runConfig(spec, modelDir, head, data, facts));
                writeReport(out, spec, data, result, valMetrics, fv, facts, cfg);
                listener.onMessage("model written to " + out);
                return new RunResult(out, valMetrics, testMetrics, valReport, testReport, facts);
            }
        }
    }

    private static Path resumePath(Spec spec) {
        if (spec.resumeFrom() == null) {
            return null;
        }
        if (spec.resumeFrom().equals("latest")) {
            List<Path> all = Trainer.checkpoints(spec.output());
            if (all.isEmpty()) {
                throw new IllegalArgumentException("--resume-from-checkpoint latest: " + spec.output()
                        + " holds no checkpoint-N directory to resume from");
            }
            return all.get(all.size() - 1);
        }
        Path p = Path.of(spec.resumeFrom());
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("--resume-from-checkpoint " + p + ": no such directory");
        }
        return p;
    }

    private static float[] classWeights(TrainingConfig cfg, Examples train, int classes, boolean multi) {
        if (cfg.classWeights().equals("none")) {
            return null;
        }
        if (multi) {
            throw new IllegalArgumentException("--class-weights applies to single-label classification only");
        }
        if (cfg.classWeights().equals("balanced")) {
            return Losses.balancedWeights(train.goldIds(), classes);
        }
        float[] w = TrainingConfig.parseWeights(cfg.classWeights());
        if (w.length != classes) {
            throw new IllegalArgumentException("--class-weights gives " + w.length + " weights but there are " + classes
                    + " labels; give one per label in label-id order");
        }
        return w;
    }

    /** A final evaluation: flat metrics (HF names), the report, and the raw probabilities. */
    record Final(Map<String, Double> metrics, ClassificationReport report, String text, String json, float[][] probs,
            int[] gold) {
    }

    static Final evaluate(Examples data, List<String> labels, boolean multi, float[] weights, TrainingConfig cfg,
            Double threshold, NDManager manager, String prefix, double epoch) {
        long t0 = System.nanoTime();
        float[][] logits = Evaluation.logits(data, cfg.perDeviceEvalBatchSize(), manager, null);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return summarize(logits, data.goldIds(), data.goldSets(), labels, multi, weights, cfg.labelSmoothingFactor(),
                threshold, prefix, seconds, epoch);
    }

    /**
     * What eval_results.json holds, from a model's logits on labelled data: the report's flat metrics
     * (HF Trainer names, {@code prefix + "loss"} first), then {@code runtime}, {@code samples_per_second}
     * and, when given, {@code epoch}. Shared by training's final evaluation and {@link ModelEvaluation},
     * so that both write the same keys.
     *
     * @param gold class ids (single-label), else null
     * @param goldSets label sets (multi-label), else null
     * @param weights class weights of the loss, or null
     * @param epoch the epoch the model was trained to, or null when unknown (no "epoch" key)
     */
    static Final summarize(float[][] logits, int[] gold, boolean[][] goldSets, List<String> labels, boolean multi,
            float[] weights, double smoothing, Double threshold, String prefix, double seconds, Double epoch) {
        Map<String, Double> m = new LinkedHashMap<>();
        String text;
        String json;
        ClassificationReport report = null;
        float[][] probs;
        if (multi) {
            probs = Evaluation.sigmoid(logits);
            MultiLabelReport r = MultiLabelMetrics.compute(labels, goldSets, probs);
            m.putAll(r.flat(prefix, Evaluation.binaryCrossEntropy(logits, goldSets)));
            text = r.toText();
            json = r.toJson();
        } else {
            probs = Evaluation.softmax(logits);
            report = ClassificationMetrics.compute(labels, gold, probs, threshold);
            m.putAll(report.flat(prefix, Evaluation.crossEntropy(logits, gold, weights, smoothing)));
            text = report.toText();
            json = report.toJson();
        }
        m.put(prefix + "runtime", round(seconds));
        m.put(prefix + "samples_per_second", round(logits.length / Math.max(seconds, 1e-9)));
        if (epoch != null) {
            m.put("epoch", round(epoch));
        }
        return new Final(m, report, text, json, probs, gold);
    }

    private static Map<String, Object> runConfig(Spec spec, Path modelDir, HeadConfig head, Prepared data,
            Map<String, Object> facts) {
        Map<String, Object> rc = new LinkedHashMap<>();
        rc.put("model", spec.model());
        rc.put("model_dir", modelDir.toAbsolutePath().toString());
        Map<String, Object> d = new LinkedHashMap<>();
        DataSpec ds = spec.data();
        d.put("train", ds.train().toString());
        d.put("validation", ds.validation() == null ? null : ds.validation().toString());
        d.put("test", ds.test() == null ? null : ds.test().toString());
        d.put("split", ds.split());
        d.put("read", SNAKE.valueToTree(ds.read()));
        d.put("cleaning", SNAKE.valueToTree(ds.cleaner()));
        d.put("drop_duplicates", ds.dropDuplicates());
        d.put("drop_empty", ds.dropEmpty());
        d.put("sizes", Map.of("train", data.train().size(), "validation", data.validation() == null ? 0 : data.validation().size(),
                "test", data.test() == null ? 0 : data.test().size()));
        d.put("labels", data.labels().names());
        rc.put("data", d);
        rc.put("head", SNAKE.valueToTree(head));
        rc.put("problem_type", spec.multiLabel() ? "multi_label_classification" : "single_label_classification");
        rc.put("training", SNAKE.valueToTree(spec.training()));
        rc.put("precision", org.finetune4j.nn.Precision.current().label()); // of the linear layers' products
        if (spec.lora() != null) {
            try {
                rc.put("lora", JSON.readTree(spec.lora().toJson()));
            } catch (JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }
        rc.put("results", facts);
        rc.put("environment", Map.of("java", System.getProperty("java.version"), "os", System.getProperty("os.name") + " "
                + System.getProperty("os.arch"), "cpus", Runtime.getRuntime().availableProcessors()));
        return rc;
    }

    private static void writeReport(Path out, Spec spec, Prepared data, Trainer.Result result, Map<String, Double> valMetrics,
            Final fv, Map<String, Object> facts, TrainingConfig cfg) {
        RunReport.Builder b = RunReport.builder("finetune4j run: " + spec.model() + ", " + cfg.strategy())
                .modelId(spec.model()).strategy(cfg.strategy())
                .dataset(spec.data().train().getFileName() + " (" + data.train().size() + " train"
                        + (data.validation() == null ? "" : ", " + data.validation().size() + " validation")
                        + (data.test() == null ? "" : ", " + data.test().size() + " test") + ")")
                .logHistory(result.logHistory()).finalMetrics(valMetrics).labelNames(data.labels().names());
        Map<String, String> f = new LinkedHashMap<>();
        facts.forEach((k, v) -> f.put(k, v instanceof Double x ? String.format("%.4g", x) : String.valueOf(v)));
        b.facts(f);
        b.trainingConfig(SNAKE.convertValue(cfg, Map.class));
        if (fv != null && fv.report() != null) {
            ClassificationReport r = fv.report();
            b.confusionMatrix(r.confusionMatrix().counts()).classificationReport(fv.text());
            if (r.isBinary()) {
                double[] scores = new double[fv.probs().length];
                for (int i = 0; i < scores.length; i++) {
                    scores[i] = fv.probs()[i][1];
                }
                boolean bothClasses = java.util.Arrays.stream(fv.gold()).distinct().count() == 2;
                if (bothClasses) {
                    b.roc(RocCurve.of(fv.gold(), scores));
                    b.precisionRecall(PrecisionRecallCurve.of(fv.gold(), scores));
                }
            }
            List<Misclassified> wrong = misclassified(data.validation(), data.labels().names(), fv, result, cfg);
            b.misclassified(wrong);
            writeMisclassified(out.resolve("misclassified.csv"), wrong);
        } else if (fv != null) {
            b.classificationReport(fv.text());
        }
        ReportWriter.write(out, b.build());
    }

    private static List<Misclassified> misclassified(Dataset val, List<String> labels, Final fv, Trainer.Result result,
            TrainingConfig cfg) {
        int[] pred = ClassificationMetrics.predictions(fv.probs(), fv.report() == null ? null
                : fv.report().binary() == null ? null : fv.report().binary().threshold());
        List<Misclassified> out = new ArrayList<>();
        for (int i = 0; i < pred.length; i++) {
            if (pred[i] != fv.gold()[i]) {
                out.add(new Misclassified(val.get(i).text(), labels.get(fv.gold()[i]), labels.get(pred[i]), fv.probs()[i][pred[i]]));
            }
        }
        out.sort(Comparator.comparingDouble(Misclassified::score).reversed());
        return out.subList(0, Math.min(MISCLASSIFIED_SHOWN, out.size()));
    }

    private static void writeMisclassified(Path file, List<Misclassified> rows) {
        AtomicFiles.write(file, o -> {
            var w = new java.io.OutputStreamWriter(o, java.nio.charset.StandardCharsets.UTF_8);
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader("text", "gold", "predicted", "score").build())) {
                for (Misclassified m : rows) {
                    p.printRecord(m.text(), m.goldLabel(), m.predictedLabel(), m.score());
                }
            }
        });
    }

    private static long directorySize(Path out, boolean adapterOnly) {
        List<String> files = adapterOnly ? List.of(Lora.WEIGHTS_FILE, LoraConfig.FILE)
                : List.of("model.safetensors", "config.json");
        long total = 0;
        for (String f : files) {
            try {
                total += Files.exists(out.resolve(f)) ? Files.size(out.resolve(f)) : 0;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return total;
    }

    static void writeJson(Path file, Object value) {
        try {
            AtomicFiles.writeString(file, JSON.writeValueAsString(value) + "\n");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
