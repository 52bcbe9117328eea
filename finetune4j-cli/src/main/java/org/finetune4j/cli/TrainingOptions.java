package org.finetune4j.cli;

import org.finetune4j.api.FineTuning;
import org.finetune4j.config.Pooling;
import org.finetune4j.train.TrainingConfig;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The head and the training budget: everything about a run except which strategy it uses and where it
 * writes (shared by train and compare, so compared strategies get the same budget and seed). The
 * training options have no defaults here: {@link TrainingDefaults} gives TrainingConfig's.
 */
final class TrainingOptions {
    @Mixin
    StepOptions step = new StepOptions();

    @Option(names = "--head", defaultValue = "standard", description = "standard (the architecture's own) or mlp.")
    String head;

    @Option(names = "--head-hidden-size", defaultValue = "512", description = "mlp head width.")
    int headHidden;

    @Option(names = "--head-dropout", defaultValue = "0.1", description = "mlp head dropout.")
    double headDropout;

    @Option(names = "--pooling", description = "pooler, cls or mean (default: the head's own; mean for mlp).")
    String pooling;

    @Option(names = "--epochs")
    int epochs;

    @Option(names = "--eval-batch-size")
    int evalBatchSize;

    @Option(names = "--learning-rate")
    double learningRate;

    @Option(names = "--weight-decay", description = "Decoupled weight decay (not on biases or LayerNorm).")
    double weightDecay;

    @Option(names = "--warmup-ratio")
    double warmupRatio;

    @Option(names = "--warmup-steps", description = "Learning-rate warmup steps; overrides --warmup-ratio when > 0.")
    long warmupSteps;

    @Option(names = "--lr-scheduler", description = "linear, cosine, constant, constant_with_warmup.")
    String scheduler;

    @Option(names = "--max-grad-norm", description = "Global-norm gradient clipping (0: off).")
    double maxGradNorm;

    @Option(names = "--layerwise-lr-decay", description = "Layer-wise learning-rate decay g in (0, 1] (Sun et al. 2019,"
            + " ELECTRA): the head trains at the learning rate, encoder layer i of L at lr*g^(L-i), the embeddings at"
            + " lr*g^(L+1); 1: off.")
    double layerwiseLrDecay;

    @Option(names = "--ema-decay", description = "Keep an exponential moving average of the trainable weights"
            + " (Polyak averaging, as timm's ModelEmaV2: ema = d*ema + (1-d)*w after each step, no warmup) and evaluate"
            + " and save it: checkpoints, the best and the final model are the average. One more copy of the"
            + " trainable weights in memory. In [0, 1); 0: off.")
    double emaDecay;

    @Option(names = "--reinit-top-layers", description = "Re-initialise the top K encoder layers and the pooler before"
            + " training (Zhang et al. 2021, Revisiting Few-sample BERT Fine-tuning): linear weights from N(0,"
            + " initializer_range), biases 0, LayerNorm 1 and 0, seeded by --seed. Full and partial strategies; not"
            + " ALBERT (shared layers). 0: off.")
    int reinitTopLayers;

    @Option(names = "--gradient-accumulation-steps")
    int accumulation;

    @Option(names = "--label-smoothing")
    double labelSmoothing;

    @Option(names = "--class-weights", description = "none, balanced, or one weight per label: 1,3.5")
    String classWeights;

    @Option(names = "--group-by-length", negatable = true, fallbackValue = "true",
            description = "Batch texts of similar lengths; --no-group-by-length shuffles without grouping (default: ${DEFAULT-VALUE}).")
    boolean groupByLength;

    @Option(names = "--eval-strategy", description = "epoch, steps or no.")
    String evalStrategy;

    @Option(names = "--eval-steps")
    long evalSteps;

    @Option(names = "--logging-steps", description = "Log the training loss every N steps (default: min(50, total steps / 20),"
            + " at least 20 points on a short run).")
    Long loggingSteps;

    @Option(names = "--save-total-limit", description = "Keep at most this many checkpoints, counting the best, which is"
            + " always kept (as in transformers); 0 keeps every checkpoint.")
    Integer saveTotalLimit;

    @Option(names = "--metric-for-best-model", description = "loss, accuracy, f1, macro_f1, ...")
    String bestMetric;

    @Option(names = "--load-best-model-at-end", negatable = true, fallbackValue = "true",
            description = "End with the best checkpoint's weights; --no-load-best-model-at-end keeps the last"
                    + " (default: ${DEFAULT-VALUE}).")
    boolean loadBest;

    @Option(names = "--early-stopping-patience", description = "Stop after this many evaluations without improvement.")
    Integer patience;

    @Option(names = "--early-stopping-threshold")
    double patienceThreshold;

    @Option(names = "--tune-threshold", negatable = true, fallbackValue = "true",
            description = "Binary tasks: choose the decision threshold maximising validation F1 (default: ${DEFAULT-VALUE}).")
    boolean tuneThreshold;

    @Mixin
    LoraOptions lora = new LoraOptions();

    @Option(names = "--merge", description = "LoRA: also write a merged full model to <output>/merged.")
    boolean merge;

    @Mixin
    PrecisionOption precision = new PrecisionOption();

    TrainingConfig toConfig(String strategy) {
        TrainingConfig.Builder b = TrainingConfig.builder();
        if (loggingSteps != null) {
            b.loggingSteps(loggingSteps); // unset: TrainingConfig chooses from the run's length
        }
        return b.strategy(strategy).frozenLayers(step.frozenLayers).reinitTopLayers(reinitTopLayers).maxLength(step.maxLength)
                .groupByLength(groupByLength).epochs(epochs).batchSize(step.batchSize).evalBatchSize(evalBatchSize)
                .gradientAccumulationSteps(accumulation).learningRate(learningRate).weightDecay(weightDecay)
                .lrSchedulerType(scheduler).warmupRatio(warmupRatio).warmupSteps(warmupSteps).maxGradNorm(maxGradNorm)
                .layerwiseLrDecay(layerwiseLrDecay).emaDecay(emaDecay).labelSmoothing(labelSmoothing).classWeights(classWeights)
                .evalStrategy(evalStrategy).evalSteps(evalSteps)
                .saveTotalLimit(saveTotalLimit != null && saveTotalLimit == 0 ? null : saveTotalLimit).loadBestModelAtEnd(loadBest)
                .metricForBestModel(bestMetric).earlyStopping(patience, patienceThreshold).tuneThreshold(tuneThreshold)
                .seed(step.seed).build();
    }

    FineTuning.HeadChoice headChoice() {
        return new FineTuning.HeadChoice(head, pooling == null ? null : Pooling.parse(pooling), headHidden, headDropout);
    }
}
