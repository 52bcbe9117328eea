package org.finetune4j.cli;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.train.TrainingConfig;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The defaults of the training options, read from {@code TrainingConfig.builder().build()} and
 * {@link LoraConfig#DEFAULTS}, so that a command-line run and a library run with nothing set train
 * alike and help shows the library's values (train, compare and bench). Options it does not name keep
 * their own {@code defaultValue}; a null setting (no early stopping, every layer) has no default.
 */
final class TrainingDefaults implements IDefaultValueProvider {
    private final Map<String, String> values = new HashMap<>();

    TrainingDefaults() {
        this(TrainingConfig.builder().build(), LoraConfig.DEFAULTS);
    }

    TrainingDefaults(TrainingConfig c, LoraConfig lora) {
        put("--strategy", String.valueOf(c.strategy()).toLowerCase(Locale.ROOT));
        put("--frozen-layers", c.frozenLayers());
        put("--batch-size", c.perDeviceTrainBatchSize());
        put("--max-length", c.maxLength());
        put("--seed", c.seed());
        put("--group-by-length", c.groupByLength());
        put("--epochs", c.numTrainEpochs());
        put("--eval-batch-size", c.perDeviceEvalBatchSize());
        put("--gradient-accumulation-steps", c.gradientAccumulationSteps());
        put("--learning-rate", c.learningRate());
        put("--weight-decay", c.weightDecay());
        put("--max-grad-norm", c.maxGradNorm());
        put("--layerwise-lr-decay", c.layerwiseLrDecay());
        put("--ema-decay", c.emaDecay());
        put("--reinit-top-layers", c.reinitTopLayers());
        put("--lr-scheduler", c.lrSchedulerType());
        put("--warmup-ratio", c.warmupRatio());
        put("--warmup-steps", c.warmupSteps());
        put("--label-smoothing", c.labelSmoothingFactor());
        put("--class-weights", c.classWeights());
        put("--eval-strategy", c.evalStrategy());
        put("--eval-steps", c.evalSteps());
        put("--logging-steps", c.loggingSteps());
        put("--save-total-limit", c.saveTotalLimit());
        put("--load-best-model-at-end", c.loadBestModelAtEnd());
        put("--metric-for-best-model", c.metricForBestModel());
        put("--early-stopping-patience", c.earlyStoppingPatience());
        put("--early-stopping-threshold", c.earlyStoppingThreshold());
        put("--tune-threshold", c.tuneThreshold());
        put("--lora-r", lora.r());
        put("--lora-alpha", lora.loraAlpha());
        put("--lora-dropout", lora.loraDropout());
        put("--lora-target-modules", lora.targetModules());
        put("--lora-layers", lora.layersToTransform());
        put("--lora-bias", lora.bias());
        put("--use-rslora", lora.useRslora());
    }

    private void put(String option, Object value) {
        if (value instanceof List<?> list && list.isEmpty()) {
            return; // no default value: the library decides (LoRA targets: the architecture's query and value)
        } else if (value instanceof List<?> list) {
            values.put(option, String.join(",", list.stream().map(String::valueOf).toList()));
        } else if (value instanceof Double d) {
            // 5.0E-5 reads as 5e-5 in help; the text parses back to the same double.
            values.put(option, d.toString().replace(".0E", "E").replace('E', 'e'));
        } else if (value != null) {
            values.put(option, value.toString());
        }
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        return arg instanceof OptionSpec o ? values.get(o.longestName()) : null;
    }
}
