package org.finetune4j.cli;

import java.util.List;
import org.finetune4j.lora.LoraConfig;
import picocli.CommandLine.Option;

/**
 * LoRA settings, used when the strategy is lora (shared by train, compare and bench). No defaults
 * here: {@link TrainingDefaults} gives {@link LoraConfig#DEFAULTS}.
 */
final class LoraOptions {
    @Option(names = "--lora-r", description = "LoRA rank r.")
    int r;

    @Option(names = "--lora-alpha", description = "LoRA scale numerator: updates are scaled by alpha / r.")
    double alpha;

    @Option(names = "--lora-dropout", description = "Dropout on the LoRA input.")
    double dropout;

    @Option(names = "--lora-target-modules", split = ",",
            description = "Module name suffixes (query,value; q_lin,v_lin for DistilBERT; q,v for MPNet) or all-linear.")
    List<String> targets;

    @Option(names = "--lora-layers", split = ",", description = "Only these layer indices (PEFT's layers_to_transform).")
    List<Integer> layers;

    @Option(names = "--lora-bias", description = "LoRA bias: none, all or lora_only.")
    String bias;

    @Option(names = "--use-rslora", negatable = true, fallbackValue = "true",
            description = "Scale LoRA by lora_alpha / sqrt(r) (default: ${DEFAULT-VALUE}).")
    boolean rslora;

    LoraConfig toConfig() {
        return new LoraConfig(r, alpha, dropout, targets, layers, LoraConfig.DEFAULTS.modulesToSave(), bias, rslora, null);
    }
}
