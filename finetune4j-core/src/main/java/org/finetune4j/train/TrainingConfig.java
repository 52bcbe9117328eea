package org.finetune4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Set;

/**
 * How to train, with transformers' TrainingArguments names (snake_case in training_args.json).
 * Built with {@link #builder()}, whose defaults are TrainingArguments' except where a comment there
 * says why not; the command line takes its defaults from the same builder. Validated when built;
 * written beside every run and checkpoint.
 */
public record TrainingConfig(
        /* What trains. */
        Strategy strategy,
        int frozenLayers, // partial: the embeddings and this many lowest layers are frozen
        int reinitTopLayers, // 0: off; the top k layers and the pooler re-initialised before training, see ReinitTopLayers
        /* Data. */
        int maxLength, // truncation length in tokens; not a TrainingArguments field (tokenizer's max_length)
        boolean groupByLength, // batches of similar lengths (TrainingArguments' group_by_length)
        /* Loop. */
        int numTrainEpochs,
        int perDeviceTrainBatchSize,
        int perDeviceEvalBatchSize,
        int gradientAccumulationSteps,
        /* Optimizer and schedule. */
        double learningRate,
        double weightDecay,
        double adamBeta1,
        double adamBeta2,
        double adamEpsilon,
        double maxGradNorm,
        double layerwiseLrDecay, // 1: off; the head at learning_rate, layer i at learning_rate γ^(L - i), see LayerwiseLr
        double emaDecay, // 0: off; evaluate and save an exponential moving average of the trainable weights, see Ema
        String lrSchedulerType,
        double warmupRatio,
        long warmupSteps, // when > 0 it wins over warmup_ratio, as in the Trainer
        /* Loss. */
        double labelSmoothingFactor,
        String classWeights, // none | balanced | comma-separated weights in label-id order
        /* Evaluation, checkpoints, best model. */
        String evalStrategy, // no | epoch | steps
        long evalSteps,
        Long loggingSteps, // null: automatic, see loggingStepsFor(totalSteps)
        Integer saveTotalLimit, // null keeps every checkpoint (HF default); counts the best, as in HF (Checkpoints.rotate)
        boolean loadBestModelAtEnd,
        String metricForBestModel, // "loss" (HF default when best-at-end) or a metric name: f1, accuracy, macro_f1, ...
        Integer earlyStoppingPatience, // null: no early stopping (EarlyStoppingCallback's early_stopping_patience)
        double earlyStoppingThreshold,
        boolean tuneThreshold, // binary tasks: pick the decision threshold that maximises validation F1
        /* Reproducibility. */
        long seed) {

    public static final Set<String> EVAL_STRATEGIES = Set.of("no", "epoch", "steps");
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public TrainingConfig {
        require(strategy != null, "strategy must be one of " + String.join(", ", Strategy.ids()));
        require(frozenLayers >= 0, "frozen_layers must be >= 0");
        require(reinitTopLayers >= 0, "reinit_top_layers must be >= 0 (0 turns it off), not " + reinitTopLayers);
        require(reinitTopLayers == 0 || strategy == Strategy.FULL || strategy == Strategy.PARTIAL, "reinit_top_layers "
                + reinitTopLayers + " needs the re-initialised layers to train: strategy full or partial, not "
                + String.valueOf(strategy).toLowerCase(java.util.Locale.ROOT));
        require(maxLength >= 2, "max_length must be at least 2 (room for [CLS] and [SEP])");
        require(numTrainEpochs >= 1, "num_train_epochs must be >= 1");
        require(perDeviceTrainBatchSize >= 1 && perDeviceEvalBatchSize >= 1, "batch sizes must be >= 1");
        require(gradientAccumulationSteps >= 1, "gradient_accumulation_steps must be >= 1");
        require(learningRate > 0 && Double.isFinite(learningRate), "learning_rate must be a positive number");
        require(weightDecay >= 0, "weight_decay must be >= 0");
        require(adamBeta1 >= 0 && adamBeta1 < 1 && adamBeta2 >= 0 && adamBeta2 < 1, "adam betas must be in [0, 1)");
        require(adamEpsilon > 0, "adam_epsilon must be > 0");
        require(maxGradNorm >= 0, "max_grad_norm must be >= 0 (0 disables clipping)");
        require(layerwiseLrDecay > 0 && layerwiseLrDecay <= 1, "layerwise_lr_decay must be in (0, 1] (1 turns it off),"
                + " not " + layerwiseLrDecay + ": each layer down from the top trains at that factor of the rate above it");
        require(emaDecay >= 0 && emaDecay < 1, "ema_decay must be in [0, 1) (0 turns it off), not " + emaDecay
                + ": the average keeps that share of itself at each step (0.999: about the last 1000 steps)");
        require(LrSchedule.TYPES.contains(lrSchedulerType), "lr_scheduler_type must be one of " + sorted(LrSchedule.TYPES));
        require(warmupRatio >= 0 && warmupRatio < 1, "warmup_ratio must be in [0, 1)");
        require(warmupSteps >= 0, "warmup_steps must be >= 0");
        require(labelSmoothingFactor >= 0 && labelSmoothingFactor < 1, "label_smoothing_factor must be in [0, 1)");
        require(classWeights.equals("none") || classWeights.equals("balanced") || parseWeights(classWeights) != null,
                "class_weights must be none, balanced, or comma-separated positive numbers");
        require(EVAL_STRATEGIES.contains(evalStrategy), "eval_strategy must be one of " + sorted(EVAL_STRATEGIES));
        require(!evalStrategy.equals("steps") || evalSteps >= 1, "eval_strategy steps needs eval_steps >= 1");
        require(loggingSteps == null || loggingSteps >= 1, "logging_steps must be >= 1");
        require(saveTotalLimit == null || saveTotalLimit >= 1, "save_total_limit must be >= 1");
        require(earlyStoppingPatience == null || earlyStoppingPatience >= 1, "early_stopping_patience must be >= 1");
        require(earlyStoppingPatience == null || !evalStrategy.equals("no"), "early stopping needs evaluation (eval_strategy epoch or steps)");
        require(!loadBestModelAtEnd || !evalStrategy.equals("no") , "load_best_model_at_end needs evaluation (eval_strategy epoch or steps)");
        require(earlyStoppingThreshold >= 0, "early_stopping_threshold must be >= 0");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    private static String sorted(Set<String> s) {
        return String.join(", ", new java.util.TreeSet<>(s));
    }

    /** Explicit class weights from "1,2.5,..." or null when the text is not such a list. */
    public static float[] parseWeights(String text) {
        String[] parts = text.split(",");
        float[] w = new float[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                w[i] = Float.parseFloat(parts[i].trim());
                if (!(w[i] > 0) || !Float.isFinite(w[i])) {
                    return null;
                }
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return w;
    }

    /**
     * The logging interval of a run of {@code totalSteps} optimizer steps: logging_steps when set, else
     * min(50, max(1, totalSteps / 20)), so that a short run logs at least 20 training-loss points (a
     * curve) and a long one a line every 50 steps (TrainingConfigTest.automaticLoggingGivesACurveOnShortRuns).
     */
    public long loggingStepsFor(long totalSteps) {
        return loggingSteps != null ? loggingSteps : Math.min(50, Math.max(1, totalSteps / 20));
    }

    /** Whether a larger value of metric_for_best_model is better (loss: no), as the Trainer infers it. */
    public boolean greaterIsBetter() {
        return !metricForBestModel.endsWith("loss");
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Reads a training_args.json. A setting the file lacks (written before the setting existed) takes the
     * builder's default, which is how that run trained.
     */
    public static TrainingConfig fromJson(String json) {
        try {
            ObjectNode all = JSON.valueToTree(builder().build());
            JsonNode read = JSON.readTree(json);
            if (!read.isObject()) {
                throw new IllegalArgumentException("not a valid training_args.json: not a JSON object");
            }
            all.setAll((ObjectNode) read);
            return JSON.treeToValue(all, TrainingConfig.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a valid training_args.json: " + e.getOriginalMessage(), e);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.strategy = strategy;
        b.frozenLayers = frozenLayers;
        b.reinitTopLayers = reinitTopLayers;
        b.maxLength = maxLength;
        b.groupByLength = groupByLength;
        b.numTrainEpochs = numTrainEpochs;
        b.perDeviceTrainBatchSize = perDeviceTrainBatchSize;
        b.perDeviceEvalBatchSize = perDeviceEvalBatchSize;
        b.gradientAccumulationSteps = gradientAccumulationSteps;
        b.learningRate = learningRate;
        b.weightDecay = weightDecay;
        b.adamBeta1 = adamBeta1;
        b.adamBeta2 = adamBeta2;
        b.adamEpsilon = adamEpsilon;
        b.maxGradNorm = maxGradNorm;
        b.layerwiseLrDecay = layerwiseLrDecay;
        b.emaDecay = emaDecay;
        b.lrSchedulerType = lrSchedulerType;
        b.warmupRatio = warmupRatio;
        b.warmupSteps = warmupSteps;
        b.labelSmoothingFactor = labelSmoothingFactor;
        b.classWeights = classWeights;
        b.evalStrategy = evalStrategy;
        b.evalSteps = evalSteps;
        b.loggingSteps = loggingSteps;
        b.saveTotalLimit = saveTotalLimit;
        b.loadBestModelAtEnd = loadBestModelAtEnd;
        b.metricForBestModel = metricForBestModel;
        b.earlyStoppingPatience = earlyStoppingPatience;
        b.earlyStoppingThreshold = earlyStoppingThreshold;
        b.tuneThreshold = tuneThreshold;
        b.seed = seed;
        return b;
    }

    /**
     * Fluent construction. The defaults sit here together; each one that is not TrainingArguments'
     * says why.
     */
    public static final class Builder {
        private Strategy strategy = Strategy.FULL;
        private int frozenLayers = 0;
        private int reinitTopLayers = 0; // not a TrainingArguments field; 0: every layer keeps its pre-trained weights
        // Not a TrainingArguments field (the tokenizer's max_length, whose default is the model's 512).
        // 128: the notebooks' truncation; short texts (tweets, SMS, support messages) fit in it.
        private int maxLength = 128;
        // transformers: false. Ours true: a step computes few padded positions (length-grouped batches of
        // the tweets are ~2 % padding; BatchesTest.lengthGroupingCutsPaddingOnSkewedLengths), and the
        // order stays seeded and shuffled between groups.
        private boolean groupByLength = true;
        private int numTrainEpochs = 3;
        // transformers: 8. Ours 16: the batch size the BERT paper recommends for fine-tuning (16 or 32,
        // Devlin et al. 2019, appendix A.3), the notebooks and every documented run use.
        private int perDeviceTrainBatchSize = 16;
        // transformers: 8. Ours 16, the training batch: on the tweets batch 16 evaluated faster than 64
        // (324 vs 271 samples/s) and kept full fine-tuning's peak RSS ~130 MB lower.
        private int perDeviceEvalBatchSize = 16;
        private int gradientAccumulationSteps = 1;
        private double learningRate = 5e-5;
        private double weightDecay = 0.0;
        private double adamBeta1 = 0.9;
        private double adamBeta2 = 0.999;
        private double adamEpsilon = 1e-8;
        private double maxGradNorm = 1.0;
        private double layerwiseLrDecay = 1.0; // not a TrainingArguments field; 1: every parameter at learning_rate
        private double emaDecay = 0.0; // not a TrainingArguments field; 0: the run's weights, not an average
        private String lrSchedulerType = "linear";
        private double warmupRatio = 0.0;
        private long warmupSteps = 0;
        private double labelSmoothingFactor = 0.0;
        private String classWeights = "none"; // not a TrainingArguments field
        // transformers: "no". Ours "epoch": a run reports validation metrics, and the best model needs them.
        private String evalStrategy = "epoch";
        private long evalSteps = 0; // transformers: None (logging_steps); only read with eval_strategy steps
        // transformers: 500. Ours null, automatic: min(50, steps / 20) (loggingStepsFor), so that a run of
        // a few dozen steps (the quick start's 54) still logs a training-loss curve of 20 points or more.
        private Long loggingSteps = null;
        // transformers: None (keep all). Ours 2, what HF users commonly set: the latest checkpoint (to resume)
        // and the best (load_best_model_at_end), each a whole model with its optimizer state (the quick start
        // kept 870 MB of checkpoints without a limit). Checkpoints.rotate keeps the best beyond the limit as HF does.
        private Integer saveTotalLimit = 2;
        // transformers: false. Ours true: the run keeps its best validation checkpoint, not the last.
        private boolean loadBestModelAtEnd = true;
        private String metricForBestModel = "loss"; // transformers' choice when load_best_model_at_end is set
        private Integer earlyStoppingPatience = null;
        private double earlyStoppingThreshold = 0.0;
        private boolean tuneThreshold = false; // not a TrainingArguments field
        private long seed = 42;

        public Builder strategy(Strategy v) { strategy = v; return this; }
        /** The strategy by its id (full, frozen, partial, lora). */
        public Builder strategy(String id) { strategy = Strategy.of(id); return this; }
        public Builder frozenLayers(int v) { frozenLayers = v; return this; }
        /** Re-initialise the top k encoder layers and the pooler before training ({@link ReinitTopLayers}); 0: off. */
        public Builder reinitTopLayers(int v) { reinitTopLayers = v; return this; }
        public Builder maxLength(int v) { maxLength = v; return this; }
        public Builder groupByLength(boolean v) { groupByLength = v; return this; }
        public Builder epochs(int v) { numTrainEpochs = v; return this; }
        public Builder batchSize(int v) { perDeviceTrainBatchSize = v; return this; }
        public Builder evalBatchSize(int v) { perDeviceEvalBatchSize = v; return this; }
        public Builder gradientAccumulationSteps(int v) { gradientAccumulationSteps = v; return this; }
        public Builder learningRate(double v) { learningRate = v; return this; }
        public Builder weightDecay(double v) { weightDecay = v; return this; }
        public Builder adamBetas(double b1, double b2) { adamBeta1 = b1; adamBeta2 = b2; return this; }
        public Builder adamEpsilon(double v) { adamEpsilon = v; return this; }
        public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
        /** Layer-wise learning-rate decay γ in (0, 1]: see {@link LayerwiseLr}. 1 (the default) turns it off. */
        public Builder layerwiseLrDecay(double v) { layerwiseLrDecay = v; return this; }
        /** Decay d in [0, 1) of the exponential moving average of the weights that is evaluated and saved ({@link Ema}); 0: off. */
        public Builder emaDecay(double v) { emaDecay = v; return this; }
        public Builder lrSchedulerType(String v) { lrSchedulerType = v; return this; }
        public Builder warmupRatio(double v) { warmupRatio = v; return this; }
        public Builder warmupSteps(long v) { warmupSteps = v; return this; }
        public Builder labelSmoothing(double v) { labelSmoothingFactor = v; return this; }
        public Builder classWeights(String v) { classWeights = v; return this; }
        public Builder evalStrategy(String v) { evalStrategy = v; return this; }
        public Builder evalSteps(long v) { evalSteps = v; return this; }
        public Builder loggingSteps(long v) { loggingSteps = v; return this; }
        public Builder saveTotalLimit(Integer v) { saveTotalLimit = v; return this; }
        public Builder loadBestModelAtEnd(boolean v) { loadBestModelAtEnd = v; return this; }
        public Builder metricForBestModel(String v) { metricForBestModel = v; return this; }
        public Builder earlyStopping(Integer patience, double threshold) {
            earlyStoppingPatience = patience;
            earlyStoppingThreshold = threshold;
            return this;
        }
        public Builder tuneThreshold(boolean v) { tuneThreshold = v; return this; }
        public Builder seed(long v) { seed = v; return this; }

        public TrainingConfig build() {
            return new TrainingConfig(strategy, frozenLayers, reinitTopLayers, maxLength, groupByLength, numTrainEpochs,
                    perDeviceTrainBatchSize, perDeviceEvalBatchSize, gradientAccumulationSteps, learningRate, weightDecay,
                    adamBeta1, adamBeta2, adamEpsilon, maxGradNorm, layerwiseLrDecay, emaDecay, lrSchedulerType, warmupRatio, warmupSteps,
                    labelSmoothingFactor, classWeights, evalStrategy, evalSteps, loggingSteps, saveTotalLimit,
                    loadBestModelAtEnd, metricForBestModel, earlyStoppingPatience, earlyStoppingThreshold, tuneThreshold, seed);
        }
    }

    /** Names accepted for metric_for_best_model (with or without the "eval_" prefix). */
    public static final List<String> BEST_MODEL_METRICS = List.of("loss", "accuracy", "f1", "macro_f1", "weighted_f1",
            "precision", "recall", "roc_auc", "micro_f1");
}
