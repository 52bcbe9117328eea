package org.finetune4j.cli;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import org.finetune4j.api.DataSpec;
import org.finetune4j.api.FineTuning;
import org.finetune4j.api.RunResult;
import org.finetune4j.config.Pooling;
import org.finetune4j.data.Splits;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.train.TrainingConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Fine-tunes a model on a labelled file; with no options, the packaged MiniLM on the bundled example data. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Fine-tune a BERT-family model for text classification.",
                "Without --train it fine-tunes the packaged all-MiniLM-L6-v2 on the bundled example data"
                        + " (360 support messages, 3 classes) and prints the report."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2",
            description = "Model directory, packaged id (all-MiniLM-L6-v2, bge-small-en-v1.5), or Hugging Face Hub id"
                    + " org/name[@revision].")
    String model;

    @Option(names = "--train", description = "Training file (CSV, TSV, JSON Lines; .gz allowed).")
    Path train;

    @Option(names = "--validation", description = "Validation file (instead of --split).")
    Path validation;

    @Option(names = "--test", description = "Test file, evaluated once at the end.")
    Path test;

    @Option(names = "--split", description = "Stratified split of --train: train,validation[,test] ratios, e.g. 0.9,0.1."
            + " Default without --validation: 0.9,0.1 (0.8,0.1,0.1 for the example data).")
    String split;

    @Mixin
    DataOptions data = new DataOptions();

    @Mixin
    CleaningOptions cleaning = new CleaningOptions();

    @Option(names = "--keep-duplicates", description = "Keep repeated training texts (default: drop them before splitting).")
    boolean keepDuplicates;

    @Option(names = "--multi-label", description = "Several labels per text (with --label-separator); BCE loss.")
    boolean multiLabel;

    @Option(names = "--strategy", defaultValue = "full", description = "full, frozen, partial or lora.")
    String strategy;

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

    @Option(names = "--eval-batch-size", defaultValue = "64")
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

    @ArgGroup(exclusive = false, heading = "LoRA (--strategy lora)%n")
    LoraOptions lora = new LoraOptions();

    @Option(names = "--output", description = "Run directory (default: runs/<model>-<strategy>-<time>).")
    Path output;

    @Option(names = "--overwrite", description = "Replace an earlier run in --output.")
    boolean overwrite;

    @Option(names = "--resume-from-checkpoint", description = "latest, or a checkpoint-N directory of this run.")
    String resume;

    @Option(names = {"-q", "--quiet"}, description = "No progress bars or log lines; print only the final JSON.")
    boolean quiet;

    static final class LoraOptions {
        @Option(names = "--lora-r", defaultValue = "16")
        int r;

        @Option(names = "--lora-alpha", defaultValue = "32")
        double alpha;

        @Option(names = "--lora-dropout", defaultValue = "0.05")
        double dropout;

        @Option(names = "--lora-target-modules", split = ",", defaultValue = "query,value",
                description = "Module name suffixes (query,value for BERT; q_lin,v_lin for DistilBERT) or all-linear.")
        List<String> targets;

        @Option(names = "--lora-layers", split = ",", description = "Only these layer indices (PEFT's layers_to_transform).")
        List<Integer> layers;

        @Option(names = "--lora-bias", defaultValue = "none", description = "none, all or lora_only.")
        String bias;

        @Option(names = "--use-rslora", description = "Scale by lora_alpha / sqrt(r).")
        boolean rslora;

        @Option(names = "--merge", description = "Also write a merged full model to <output>/merged.")
        boolean merge;

        LoraConfig toConfig() {
            return new LoraConfig(r, alpha, dropout, targets, layers, List.of("classifier", "score"), bias, rslora, null);
        }
    }

    @Override
    public Integer call() {
        ConsoleListener listener = new ConsoleListener(quiet);
        boolean example = train == null;
        String splitText = split;
        Path trainFile = train;
        if (example) {
            if (validation != null || test != null) {
                throw new UserError("--validation/--test need --train");
            }
            trainFile = ExampleData.extract(org.finetune4j.onnx.PackagedModels.defaultHome().resolve("examples"));
            splitText = split != null ? split : "0.8,0.1,0.1";
            listener.onMessage("no --train given: fine-tuning " + model + " on the bundled example data " + trainFile);
        } else if (validation == null && split == null) {
            splitText = "0.9,0.1";
        }
        double[] ratios = splitText == null ? null : Splits.parseRatios(splitText);
        DataSpec spec = new DataSpec(trainFile, validation, test, ratios, data.toReadOptions(true), cleaning.toCleaner(),
                !keepDuplicates, true);
        TrainingConfig cfg = TrainingConfig.builder().strategy(strategy).frozenLayers(frozenLayers).maxLength(maxLength)
                .groupByLength(!noGroupByLength).epochs(epochs).batchSize(batchSize).evalBatchSize(evalBatchSize)
                .gradientAccumulationSteps(accumulation).learningRate(learningRate).weightDecay(weightDecay)
                .lrSchedulerType(scheduler).warmupRatio(warmupRatio).warmupSteps(warmupSteps).maxGradNorm(maxGradNorm)
                .labelSmoothing(labelSmoothing).classWeights(classWeights).evalStrategy(evalStrategy).evalSteps(evalSteps)
                .loggingSteps(loggingSteps).saveTotalLimit(saveTotalLimit).loadBestModelAtEnd(!noLoadBest)
                .metricForBestModel(bestMetric).earlyStopping(patience, patienceThreshold).tuneThreshold(tuneThreshold)
                .seed(seed).build();
        boolean isLora = strategy.equals("lora");
        FineTuning.Spec run = new FineTuning.Spec(model, spec,
                new FineTuning.HeadChoice(head, pooling == null ? null : Pooling.parse(pooling), headHidden, headDropout),
                multiLabel, cfg, isLora ? lora.toConfig() : null, isLora && lora.merge, runDir(), overwrite, resume);
        listener.onMessage("seed " + seed + "; output " + runDir());
        RunResult r = FineTuning.run(run, listener);
        Reports.print(r, quiet);
        return 0;
    }

    private Path resolvedOutput;

    private Path runDir() {
        if (resolvedOutput == null) {
            resolvedOutput = output != null ? output : Path.of("runs", shortName(model) + "-" + strategy + "-"
                    + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        }
        return resolvedOutput;
    }

    private static String shortName(String model) {
        String s = Path.of(model).getFileName().toString();
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
