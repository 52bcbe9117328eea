package org.finetune4j.api;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.Batches;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.DataException;
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
import org.finetune4j.metrics.ThresholdSearch;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.train.AdapterCheckpointFormat;
import org.finetune4j.train.CachedFeatureExamples;
import org.finetune4j.train.CheckpointFormat;
import org.finetune4j.train.Evaluation;
import org.finetune4j.train.Examples;
import org.finetune4j.train.LayerwiseLr;
import org.finetune4j.train.Losses;
import org.finetune4j.train.MemoryProbe;
import org.finetune4j.train.ModelCheckpointFormat;
import org.finetune4j.train.StandardMetrics;
import org.finetune4j.train.Strategies;
import org.finetune4j.train.Strategy;
import org.finetune4j.train.TokenizedExamples;
import org.finetune4j.train.Trainer;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;

/**
 * A whole fine-tuning run, as one call, in named phases: {@link #prepare} the data, {@link #encode} it,
 * {@link #buildModel} for the strategy, {@link #train}, {@link #finalEvaluation}, {@link #writeArtifacts}:
 * the model, metrics and report in Hugging Face layout. The command line's {@code train} is a thin
 * wrapper around {@link #run}.
 */
public final class FineTuning {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper SNAKE = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

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
     * Everything a run needs; made with {@link #builder()}.
     *
     * @param model a model directory, packaged id or Hub id (see {@link ModelLocator})
     * @param lora LoRA settings when {@code training.strategy()} is LORA, else null
     * @param mergeLora also write a merged full model to {@code output/merged}
     * @param resumeFrom null, "latest", or a checkpoint directory
     * @param trainOnValidation train on the training and validation parts together, with no validation (a tuning
     *     study's refit of its best parameters); a test part stays held out
     */
    public record Spec(String model, DataSpec data, HeadChoice head, boolean multiLabel, TrainingConfig training,
            LoraConfig lora, boolean mergeLora, Path output, boolean overwrite, String resumeFrom, boolean trainOnValidation) {
        public Spec {
            java.util.Objects.requireNonNull(model, "model");
            java.util.Objects.requireNonNull(data, "data");
            java.util.Objects.requireNonNull(training, "training");
            java.util.Objects.requireNonNull(output, "output");
            head = head == null ? HeadChoice.STANDARD : head;
            if (training.strategy() == Strategy.LORA && lora == null) {
                throw new IllegalArgumentException("the lora strategy needs LoRA settings");
            }
            if (training.strategy() != Strategy.LORA && (lora != null || mergeLora)) {
                throw new IllegalArgumentException("LoRA options need --strategy lora");
            }
        }

        public static Builder builder() {
            return new Builder();
        }

        /** Named fields; model, data, training and output are required, the rest default to off/standard. */
        public static final class Builder {
            private String model;
            private DataSpec data;
            private HeadChoice head = HeadChoice.STANDARD;
            private boolean multiLabel;
            private TrainingConfig training;
            private LoraConfig lora;
            private boolean mergeLora;
            private Path output;
            private boolean overwrite;
            private String resumeFrom;
            private boolean trainOnValidation;

            public Builder model(String v) { model = v; return this; }
            public Builder data(DataSpec v) { data = v; return this; }
            public Builder head(HeadChoice v) { head = v; return this; }
            public Builder multiLabel(boolean v) { multiLabel = v; return this; }
            public Builder training(TrainingConfig v) { training = v; return this; }
            public Builder lora(LoraConfig v) { lora = v; return this; }
            public Builder mergeLora(boolean v) { mergeLora = v; return this; }
            public Builder output(Path v) { output = v; return this; }
            public Builder overwrite(boolean v) { overwrite = v; return this; }
            public Builder resumeFrom(String v) { resumeFrom = v; return this; }
            public Builder trainOnValidation(boolean v) { trainOnValidation = v; return this; }

            public Spec build() {
                return new Spec(model, data, head, multiLabel, training, lora, mergeLora, output, overwrite, resumeFrom,
                        trainOnValidation);
            }
        }
    }

    private FineTuning() {
    }

    // ---------------------------------------------------------------------------------------------
    // Data

    /** The data of a run after reading, cleaning, de-duplication and splitting. */
    public record Prepared(Dataset train, Dataset validation, Dataset test, LabelSet labels) {
        /**
         * The validation examples moved into training, after the split, so that the test part is the one the
         * split made either way; nothing is left to validate on.
         */
        public Prepared withValidationInTraining(Consumer<String> log) {
            if (validation == null) {
                throw new IllegalArgumentException("--train-on-validation needs validation data (--validation FILE or --split)");
            }
            List<org.finetune4j.data.Example> all = new java.util.ArrayList<>(train.examples());
            all.addAll(validation.examples());
            log.accept("training on the training and validation parts together: " + all.size() + " examples, no validation");
            return new Prepared(train.withExamples(all), null, test, labels);
        }
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
            int rows = train.size();
            List<Dataset> parts = Splits.stratified(train, d.split(), seed);
            checkNoPartEmpty(d, rows, parts);
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

    /**
     * A split of too few rows leaves a part empty, and an empty training set used to surface later as "no
     * example has a label" although the file had labels (CliBehaviourTest.aOneRowFileSaysItIsTooSmallToSplit).
     */
    private static void checkNoPartEmpty(DataSpec d, int rows, List<Dataset> parts) {
        List<String> names = List.of("training", "validation", "test");
        StringBuilder sizes = new StringBuilder();
        String empty = null;
        for (int i = 0; i < parts.size(); i++) {
            sizes.append(i == 0 ? "" : ", ").append(names.get(i)).append(' ').append(parts.get(i).size());
            if (parts.get(i).size() == 0 && empty == null) {
                empty = names.get(i);
            }
        }
        if (empty != null) {
            String ratios = java.util.Arrays.stream(d.split()).mapToObj(r -> String.valueOf((float) r))
                    .collect(java.util.stream.Collectors.joining(","));
            throw new DataException(d.train() + ": " + rows + (rows == 1 ? " row is" : " rows are") + " too few for the split "
                    + ratios + ": it leaves the " + empty + " set empty (" + sizes + "). Each part needs at least one row;"
                    + " add rows, or give the validation data as a file of its own with --validation.");
        }
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
    // The run

    public static RunResult run(Spec spec, TrainerListener listener) {
        Path created = RunDirectory.firstMissing(spec.output()); // null when --output exists already
        try {
            try (RunDirectory.Lock lock = RunDirectory.lock(spec.output())) { // one run at a time in a directory
                return runLocked(spec, listener);
            }
        } catch (RuntimeException | Error e) {
            RunDirectory.removeIfUnused(spec.output(), created); // a run that failed early leaves no empty --output behind
            throw e;
        }
    }

    private static RunResult runLocked(Spec asked, TrainerListener listener) {
        TrainingConfig cfg = asked.training();
        Consumer<String> log = listener::onMessage;
        long started = System.nanoTime();
        Path resume = resumePath(asked);
        if (resume == null) {
            RunDirectory.prepare(asked.output(), asked.overwrite());
        }
        Prepared prepared = prepare(asked.data(), asked.data().splitSeedFor(cfg.seed()), log); // before the model: a bad file fails before any import
        Prepared data = asked.trainOnValidation() ? prepared.withValidationInTraining(log) : prepared;
        Path modelDir = ModelLocator.resolve(asked.model());
        ModelConfig base = ModelConfig.read(modelDir);
        // LoRA without target modules: the architecture's query and value, recorded as such in run_config.json.
        Spec spec = asked.lora() == null ? asked : new Spec(asked.model(), asked.data(), asked.head(), asked.multiLabel(),
                cfg, asked.lora().forModelType(base.encoder().modelType()), asked.mergeLora(), asked.output(),
                asked.overwrite(), asked.resumeFrom(), asked.trainOnValidation());
        HeadConfig head = spec.head().resolve(base);
        checkMaxLength(cfg, base);
        Map<String, Object> settings = RunArtifacts.runConfig(spec, modelDir, head, data, null);
        if (resume != null) {
            ResumeCheck.check(spec.output(), settings, log);
            RunDirectory.removeResults(spec.output()); // the resumed run writes its own; none may outlive a failure
        }
        RunArtifacts.writeJson(spec.output().resolve("run_config.json"), settings); // what this run is, results at the end
        try (NDManager manager = NDManager.newBaseManager();
                TextTokenizer tokenizer = TextTokenizer.load(modelDir, cfg.maxLength())) {
            tokenizer.checkCompatible(base.encoder().vocabSize(), modelDir.toString());
            Encoded encoded = encode(data, tokenizer, cfg, log);
            try (Built built = buildModel(spec, modelDir, head, data, tokenizer, manager, log, resume != null)) {
                Examples trainEx = examples(built, encoded.train(), cfg, manager, listener);
                Examples valEx = encoded.validation() == null ? null : examples(built, encoded.validation(), cfg, manager, listener);
                float[] weights = classWeights(cfg, trainEx, data.labels().size(), spec.multiLabel());
                Trainer.Result result = train(spec, built, encoded, trainEx, valEx, weights, data.labels(), manager,
                        listener, resume);
                if (cfg.tuneThreshold()) {
                    tuneThreshold(built.model(), valEx, data.labels(), spec.multiLabel(), cfg, manager, log);
                }
                Evaluated evaluated = finalEvaluation(spec, built, valEx, encoded.test(), data.labels(), weights, result,
                        manager);
                return writeArtifacts(spec, modelDir, head, data, encoded, built, tokenizer, result, evaluated, started, log);
            }
        }
    }

    /** max_length must fit the model's position table (RoBERTa's first pad_token_id + 1 positions are offsets). */
    private static void checkMaxLength(TrainingConfig cfg, ModelConfig base) {
        int positions = base.encoder().maxInputLength();
        if (cfg.maxLength() > positions) {
            throw new IllegalArgumentException("--max-length " + cfg.maxLength() + " exceeds the model's " + positions
                    + " positions");
        }
    }

    /** The splits, tokenised. {@code validation} and {@code test} may be null. */
    record Encoded(EncodedDataset train, EncodedDataset validation, EncodedDataset test) {
    }

    static Encoded encode(Prepared data, TextTokenizer tokenizer, TrainingConfig cfg, Consumer<String> log) {
        EncodedDataset train = EncodedDataset.encode(data.train(), tokenizer, data.labels());
        EncodedDataset val = data.validation() == null ? null : EncodedDataset.encode(data.validation(), tokenizer, data.labels());
        EncodedDataset test = data.test() == null ? null : EncodedDataset.encode(data.test(), tokenizer, data.labels());
        if (train.truncatedCount() > 0) {
            log.accept(train.truncatedCount() + " of " + train.size() + " training texts were truncated to "
                    + cfg.maxLength() + " tokens (see ./finetune4j stats for the length distribution)");
        }
        return new Encoded(train, val, test);
    }

    /** The pre-trained model with a new head, the strategy applied: what trains, and how checkpoints save it. */
    record Built(TransformerModel model, Lora lora, List<Param> trainable, CheckpointFormat checkpoints)
            implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /** @param resuming the weights come from a checkpoint next, so none stays newly initialized: no warning */
    static Built buildModel(Spec spec, Path modelDir, HeadConfig head, Prepared data, TextTokenizer tokenizer,
            NDManager manager, Consumer<String> log, boolean resuming) {
        TrainingConfig cfg = spec.training();
        ProblemType problem = spec.multiLabel() ? ProblemType.MULTI_LABEL : ProblemType.SINGLE_LABEL;
        ObjectNode preprocessing = preprocessing(spec);
        TransformerModel.Loaded loaded = TransformerModel.fromPretrained(modelDir, manager,
                c -> c.withClassifier(data.labels().names(), problem, head).withPreprocessing(preprocessing), true, cfg.seed());
        TransformerModel model = loaded.model();
        try {
            if (!loaded.report().missing().isEmpty() && !resuming) {
                log.accept(loaded.report().summary());
            }
            Set<String> newlyInitialized = new LinkedHashSet<>(loaded.report().missing());
            Strategies.Prepared prepared = Strategies.prepare(model, cfg,
                    spec.lora() == null ? null : spec.lora().withBaseModel(ModelLocator.baseModelName(spec.model())),
                    newlyInitialized);
            CheckpointFormat checkpoints = prepared.lora() != null ? new AdapterCheckpointFormat(prepared.lora(), tokenizer, modelDir)
                    : new ModelCheckpointFormat(model, tokenizer, modelDir);
            Built built = new Built(model, prepared.lora(), prepared.trainable(), checkpoints);
            // PEFT's print_trainable_parameters: "all params" includes the LoRA matrices.
            long total = model.parameters().count();
            long trainable = built.trainable().stream().mapToLong(Param::numel).sum();
            log.accept(String.format("trainable params: %,d || all params: %,d || trainable%%: %.4f", trainable, total,
                    100.0 * trainable / total));
            return built;
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Remembered with the model so predictions see texts as training did: same cleaning, same truncation. */
    private static ObjectNode preprocessing(Spec spec) {
        ObjectNode p = JSON.createObjectNode();
        p.put("max_length", spec.training().maxLength());
        if (!spec.data().cleaner().equals(TextCleaner.NONE)) {
            p.set("text_cleaning", SNAKE.valueToTree(spec.data().cleaner()));
        }
        return p;
    }

    /** What the loop iterates over: the frozen strategy trains the head on encoder features computed once. */
    private static Examples examples(Built built, EncodedDataset data, TrainingConfig cfg, NDManager manager,
            TrainerListener listener) {
        if (cfg.strategy() != Strategy.FROZEN) {
            return new TokenizedExamples(built.model(), data);
        }
        listener.onMessage("frozen encoder: computing its features once for " + data.size() + " examples");
        return CachedFeatureExamples.compute(built.model(), data, Strategies.poolerTrains(built.model()),
                cfg.perDeviceEvalBatchSize(), manager, listener::onEvaluationProgress);
    }

    static Trainer.Result train(Spec spec, Built built, Encoded encoded, Examples trainEx, Examples valEx, float[] weights,
            LabelSet labels, NDManager manager, TrainerListener listener, Path resume) {
        TrainingConfig cfg = spec.training();
        Batches.Order order = cfg.groupByLength() ? Batches.Order.LENGTH_GROUPED : Batches.Order.SHUFFLED;
        int[] lengths = encoded.train().lengths();
        Trainer.Setup setup = new Trainer.Setup(cfg, built.trainable(), LayerwiseLr.of(built.model()), trainEx,
                epoch -> Batches.plan(lengths, cfg.perDeviceTrainBatchSize(), order, cfg.seed(), epoch), valEx,
                spec.multiLabel(), weights, new StandardMetrics(labels.names(), spec.multiLabel(), null), built.checkpoints(),
                spec.output(), TrainerListener.all(new MemoryProbe(manager), listener));
        AtomicFiles.writeString(spec.output().resolve(Trainer.TRAINING_ARGS_FILE), cfg.toJson());
        try (Trainer trainer = new Trainer(setup, manager)) {
            return trainer.train(resume);
        }
    }

    /** The decision threshold, chosen on validation data (binary single-label only), saved in config.json. */
    private static void tuneThreshold(TransformerModel model, Examples valEx, LabelSet labels, boolean multi,
            TrainingConfig cfg, NDManager manager, Consumer<String> log) {
        if (multi || labels.size() != 2 || valEx == null) {
            throw new IllegalArgumentException("--tune-threshold needs a binary single-label task with validation data");
        }
        float[][] probs = Evaluation.softmax(Evaluation.logits(valEx, cfg.perDeviceEvalBatchSize(), manager, null));
        ThresholdSearch.Result t = ThresholdSearch.bestF1(valEx.goldIds(), probs);
        model.setDecisionThreshold(t.threshold());
        log.accept(String.format("decision threshold %.4f maximises validation F1 (%.4f, vs %.4f at 0.5)",
                t.threshold(), t.f1(), t.f1AtHalf()));
    }

    /** The final evaluations of the model that is saved; {@code validation} or {@code test} null when there was none. */
    record Evaluated(Final validation, Final test) {
        Map<String, Double> validationMetrics() {
            return validation == null ? new LinkedHashMap<>() : validation.metrics();
        }

        Map<String, Double> testMetrics() {
            return test == null ? new LinkedHashMap<>() : test.metrics();
        }
    }

    static Evaluated finalEvaluation(Spec spec, Built built, Examples valEx, EncodedDataset test, LabelSet labels,
            float[] weights, Trainer.Result result, NDManager manager) {
        TrainingConfig cfg = spec.training();
        Double threshold = built.model().config().decisionThreshold();
        Final fv = valEx == null ? null : evaluate(valEx, labels.names(), spec.multiLabel(), weights, cfg, threshold,
                manager, "eval_", result.epochs());
        Final ft = null;
        if (test != null) {
            Examples testEx = cfg.strategy() == Strategy.FROZEN ? CachedFeatureExamples.compute(built.model(), test,
                    Strategies.poolerTrains(built.model()), cfg.perDeviceEvalBatchSize(), manager, null)
                    : new TokenizedExamples(built.model(), test);
            ft = evaluate(testEx, labels.names(), spec.multiLabel(), weights, cfg, threshold, manager, "test_", result.epochs());
        }
        return new Evaluated(fv, ft);
    }

    /** The model in Hugging Face layout (or a PEFT adapter), the evaluation files, run_config.json and the report. */
    static RunResult writeArtifacts(Spec spec, Path modelDir, HeadConfig head, Prepared data, Encoded encoded, Built built,
            TextTokenizer tokenizer, Trainer.Result result, Evaluated ev, long started, Consumer<String> log) {
        Path out = spec.output();
        writeEvaluation(out, "eval_results.json", "classification_report", ev.validation());
        writeEvaluation(out, "test_results.json", "test_classification_report", ev.test());
        built.checkpoints().save(out);
        if (built.lora() != null && spec.mergeLora()) {
            Path merged = out.resolve("merged");
            built.lora().saveMerged(merged);
            tokenizer.save(merged, modelDir);
            log.accept("merged model (no LoRA needed to load it) written to " + merged);
        }
        Map<String, Object> facts = facts(spec, encoded, built, result, started);
        RunArtifacts.writeJson(out.resolve("run_config.json"), RunArtifacts.runConfig(spec, modelDir, head, data, facts));
        RunArtifacts.writeReport(out, spec, data, result, ev.validationMetrics(), ev.testMetrics(), ev.validation(), facts,
                spec.training());
        log.accept("model written to " + out);
        return new RunResult(out, ev.validationMetrics(), ev.testMetrics(),
                ev.validation() == null ? null : ev.validation().report(), ev.test() == null ? null : ev.test().report(), facts);
    }

    private static void writeEvaluation(Path out, String resultsFile, String reportName, Final f) {
        if (f == null) {
            return;
        }
        RunArtifacts.writeJson(out.resolve(resultsFile), f.metrics());
        AtomicFiles.writeString(out.resolve(reportName + ".txt"), f.text());
        AtomicFiles.writeString(out.resolve(reportName + ".json"), f.json());
    }

    /** The "results" of run_config.json: sizes, parameters, steps, speed, memory. */
    private static Map<String, Object> facts(Spec spec, Encoded encoded, Built built, Trainer.Result result, long started) {
        Path out = spec.output();
        long total = built.model().parameters().count();
        long trainable = built.trainable().stream().mapToLong(Param::numel).sum();
        Map<String, Object> facts = new LinkedHashMap<>();
        facts.put("model", spec.model());
        facts.put("strategy", spec.training().strategy().id());
        facts.put("train_examples", encoded.train().size());
        facts.put("validation_examples", encoded.validation() == null ? 0 : encoded.validation().size());
        facts.put("test_examples", encoded.test() == null ? 0 : encoded.test().size());
        facts.put("trainable_params", trainable);
        facts.put("total_params", total);
        facts.put("trainable_percent", 100.0 * trainable / total);
        facts.put("global_step", result.globalStep());
        facts.put("epochs", result.epochs());
        facts.put("stopped_early", result.stoppedEarly());
        facts.put("best_checkpoint", result.bestCheckpoint() == null ? null : out.relativize(result.bestCheckpoint()).toString());
        facts.put("train_runtime_s", result.trainSeconds());
        facts.put("train_samples_per_second", result.samplesPerSecond());
        facts.put("train_tokens_per_second", result.realTokens() / Math.max(result.trainSeconds(), 1e-9));
        facts.put("padding_fraction", result.paddedTokens() == 0 ? 0.0 : 1.0 - (double) result.realTokens() / result.paddedTokens());
        facts.put("wall_time_s", (System.nanoTime() - started) / 1e9);
        facts.put("peak_rss_mb", ProcessMemory.peakRssBytes() / 1e6);
        facts.put("saved_mb", RunArtifacts.directorySize(out, built.lora() != null) / 1e6);
        return facts;
    }

    // ---------------------------------------------------------------------------------------------

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

    static void writeJson(Path file, Object value) {
        RunArtifacts.writeJson(file, value);
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
