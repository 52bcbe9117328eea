package org.finetune4j.cli;

import java.util.List;
import org.finetune4j.api.FineTuning;
import org.finetune4j.config.Pooling;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.train.TrainingConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The head and the training budget: everything about a run except which strategy it uses and where it
 * writes (shared by train and compare, so compared strategies get the same budget and seed).
 */
final class TrainingOptions {
    @Option(names = "--frozen-layers", defaultValue = "0", description = "partial: freeze the embeddings and this many lowest layers.")
    int frozenLayers;

    @Option(names = "--head", defaultValue = "standard", description = "standard (the architecture's own) or mlp.")
    String head;

    @Option(names = "--head-hidden-size", defaultValue = "512", description = "mlp head width.")
    int headHidden;

    @Option(names = "--head-dropout", defaultValue = "0.1", description = "mlp head dropout.")
    double headDropout;

    @Option(names = "--pooling", description = "pooler, cls or mean (default: the head's own; mean for mlp).")
    String pooling;

    @Option(names = "--epochs", defaultValue = "3")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "16")
    int batchSize;

    @Option(names = "--eval-batch-size", defaultValue = "16")
    int evalBatchSize;

    @Option(names = "--learning-rate", defaultValue = "5e-5")
    double learningRate;

    @Option(names = "--weight-decay", defaultValue = "0.0", description = "Decoupled weight decay (not on biases or LayerNorm).")
    double weightDecay;

    @Option(names = "--warmup-ratio", defaultValue = "0.0")
    double warmupRatio;

    @Option(names = "--warmup-steps", defaultValue = "0", description = "Overrides --warmup-ratio when > 0.")
    long warmupSteps;

    @Option(names = "--lr-scheduler", defaultValue = "linear", description = "linear, cosine, constant, constant_with_warmup.")
    String scheduler;

    @Option(names = "--max-grad-norm", defaultValue = "1.0", description = "Global-norm gradient clipping (0: off).")
    double maxGradNorm;

    @Option(names = "--gradient-accumulation-steps", defaultValue = "1")
    int accumulation;

    @Option(names = "--label-smoothing", defaultValue = "0.0")
    double labelSmoothing;

    @Option(names = "--class-weights", defaultValue = "none", description = "none, balanced, or one weight per label: 1,3.5")
    String classWeights;

    @Option(names = "--max-length", defaultValue = "128", description = "Truncate texts to this many tokens.")
    int maxLength;

    @Option(names = "--no-group-by-length", negatable = false, description = "Shuffle without grouping similar lengths.")
    boolean noGroupByLength;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Option(names = "--eval-strategy", defaultValue = "epoch", description = "epoch, steps or no.")
    String evalStrategy;

    @Option(names = "--eval-steps", defaultValue = "0")
    long evalSteps;

    @Option(names = "--logging-steps", defaultValue = "50")
    long loggingSteps;

    @Option(names = "--save-total-limit", description = "Keep at most this many checkpoints (the best is always kept).")
    Integer saveTotalLimit;

    @Option(names = "--metric-for-best-model", defaultValue = "loss", description = "loss, accuracy, f1, macro_f1, ...")
    String bestMetric;

    @Option(names = "--no-load-best-model-at-end", description = "Keep the last weights instead of the best checkpoint's.")
    boolean noLoadBest;

    @Option(names = "--early-stopping-patience", description = "Stop after this many evaluations without improvement.")
    Integer patience;

    @Option(names = "--early-stopping-threshold", defaultValue = "0.0")
    double patienceThreshold;

    @Option(names = "--tune-threshold", description = "Binary tasks: choose the decision threshold maximising validation F1.")
    boolean tuneThreshold;

    @Mixin
    LoraOptions lora = new LoraOptions();

    @Mixin
    PrecisionOption precision = new PrecisionOption();

    /** LoRA settings; they apply only when the strategy is lora. */
    static final class LoraOptions {
        @Option(names = "--lora-r", defaultValue = "16", description = "LoRA rank (--strategy lora).")
        int r;

        @Option(names = "--lora-alpha", defaultValue = "32", description = "LoRA scale numerator: updates are scaled by alpha / r.")
        double alpha;

        @Option(names = "--lora-dropout", defaultValue = "0.05", description = "Dropout on the LoRA input.")
        double dropout;

        @Option(names = "--lora-target-modules", split = ",", defaultValue = "query,value",
                description = "Module name suffixes (query,value for BERT; q_lin,v_lin for DistilBERT) or all-linear.")
        List<String> targets;

        @Option(names = "--lora-layers", split = ",", description = "Only these layer indices (PEFT's layers_to_transform).")
        List<Integer> layers;

        @Option(names = "--lora-bias", defaultValue = "none", description = "LoRA bias: none, all or lora_only.")
        String bias;

        @Option(names = "--use-rslora", description = "Scale LoRA by lora_alpha / sqrt(r).")
        boolean rslora;

        @Option(names = "--merge", description = "LoRA: also write a merged full model to <output>/merged.")
        boolean merge;

        LoraConfig toConfig() {
            return new LoraConfig(r, alpha, dropout, targets, layers, List.of("classifier", "score"), bias, rslora, null);
        }
    }

    TrainingConfig toConfig(String strategy) {
        return TrainingConfig.builder().strategy(strategy).frozenLayers(frozenLayers).maxLength(maxLength)
                .groupByLength(!noGroupByLength).epochs(epochs).batchSize(batchSize).evalBatchSize(evalBatchSize)
                .gradientAccumulationSteps(accumulation).learningRate(learningRate).weightDecay(weightDecay)
                .lrSchedulerType(scheduler).warmupRatio(warmupRatio).warmupSteps(warmupSteps).maxGradNorm(maxGradNorm)
                .labelSmoothing(labelSmoothing).classWeights(classWeights).evalStrategy(evalStrategy).evalSteps(evalSteps)
                .loggingSteps(loggingSteps).saveTotalLimit(saveTotalLimit).loadBestModelAtEnd(!noLoadBest)
                .metricForBestModel(bestMetric).earlyStopping(patience, patienceThreshold).tuneThreshold(tuneThreshold)
                .seed(seed).build();
    }

    FineTuning.HeadChoice headChoice() {
        return new FineTuning.HeadChoice(head, pooling == null ? null : Pooling.parse(pooling), headHidden, headDropout);
    }
}
