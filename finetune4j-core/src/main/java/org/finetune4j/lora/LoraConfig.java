package org.finetune4j.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;

/**
 * A LoRA configuration with PEFT's names and meanings (peft.LoraConfig), read from and written to
 * adapter_config.json.
 *
 * @param r the rank of the update B A
 * @param loraAlpha the update is scaled by lora_alpha / r (lora_alpha / sqrt(r) with use_rslora)
 * @param loraDropout dropout on the input of the LoRA branch only
 * @param targetModules module-name suffixes to wrap ("query", "value"), the single entry "all-linear"
 *     for every linear layer of the encoder, or empty (null) for the architecture's query and value
 *     projections ({@link #queryValueTargets}), as PEFT's target_modules=None picks them by model type
 * @param layersToTransform layer indices to wrap (null: all layers)
 * @param modulesToSave modules trained and saved whole; for sequence classification PEFT adds the
 *     classification head ("classifier", "score")
 * @param bias "none", "all" (every bias trains and is saved) or "lora_only" (biases of wrapped layers)
 * @param baseModelNameOrPath the base model this adapter was trained on (informational)
 */
public record LoraConfig(int r, double loraAlpha, double loraDropout, List<String> targetModules,
        List<Integer> layersToTransform, List<String> modulesToSave, String bias, boolean useRslora,
        String baseModelNameOrPath) {

    public static final String FILE = "adapter_config.json";
    public static final String ALL_LINEAR = "all-linear";
    public static final Set<String> BIAS = Set.of("none", "all", "lora_only");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA rank r must be a positive integer, got " + r);
        }
        if (!(loraAlpha > 0)) {
            throw new IllegalArgumentException("lora_alpha must be positive, got " + loraAlpha);
        }
        if (loraDropout < 0 || loraDropout >= 1) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        if (!BIAS.contains(bias)) {
            throw new IllegalArgumentException("bias must be none, all or lora_only, got " + bias);
        }
        targetModules = targetModules == null ? List.of() : List.copyOf(targetModules);
        layersToTransform = layersToTransform == null ? null : List.copyOf(layersToTransform);
        modulesToSave = List.copyOf(modulesToSave);
    }

    /** The notebook's settings with PEFT's sequence-classification defaults. */
    public static LoraConfig of(int r, double alpha, double dropout, List<String> targets) {
        return new LoraConfig(r, alpha, dropout, targets, null, List.of("classifier", "score"), "none", false, null);
    }

    /**
     * What a LoRA run uses unless told otherwise; the command line's defaults. PEFT's own are r 8,
     * lora_alpha 8, lora_dropout 0 and the model's default target modules. Ours: the query and value
     * projections, which the LoRA paper adapts (Hu et al. 2021, section 7.1), with r 16, alpha 32
     * (scale 2) and dropout 0.05, the settings of the documented LoRA runs.
     */
    public static final LoraConfig DEFAULTS = of(16, 32, 0.05, List.of());

    /**
     * The names of an architecture's query and value projections, the LoRA paper's targets: what
     * PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING gives where it lists the architecture
     * (bert, roberta: query, value; deberta-v2: query_proj, value_proj), and DistilBERT's q_lin, v_lin.
     * Empty for an architecture without an entry.
     */
    public static List<String> queryValueTargets(String modelType) {
        return switch (modelType) {
            case "bert", "roberta", "xlm-roberta", "electra", "albert" -> List.of("query", "value");
            case "distilbert" -> List.of("q_lin", "v_lin");
            case "deberta-v2" -> List.of("query_proj", "value_proj");
            case "mpnet" -> List.of("q", "v");
            default -> List.of();
        };
    }

    /**
     * This configuration with empty target modules resolved to {@code modelType}'s query and value
     * projections (what an adapter_config.json then records); unchanged when targets were given.
     */
    public LoraConfig forModelType(String modelType) {
        if (!targetModules.isEmpty()) {
            return this;
        }
        List<String> qv = queryValueTargets(modelType);
        if (qv.isEmpty()) {
            throw new IllegalArgumentException("no default LoRA target modules are known for model type " + modelType
                    + ": name them with --lora-target-modules (or all-linear)");
        }
        return new LoraConfig(r, loraAlpha, loraDropout, qv, layersToTransform, modulesToSave, bias, useRslora,
                baseModelNameOrPath);
    }

    public double scale() {
        return useRslora ? loraAlpha / Math.sqrt(r) : loraAlpha / r;
    }

    public boolean allLinear() {
        return targetModules.size() == 1 && targetModules.get(0).equals(ALL_LINEAR);
    }

    public LoraConfig withBaseModel(String base) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, layersToTransform, modulesToSave, bias, useRslora, base);
    }

    public LoraConfig withModulesToSave(List<String> modules) {
        return new LoraConfig(r, loraAlpha, loraDropout, targetModules, layersToTransform, modules, bias, useRslora,
                baseModelNameOrPath);
    }

    /**
     * adapter_config.json as PEFT writes it for a LoRA sequence-classification adapter, with only the
     * keys PEFT 0.6 knows: its LoraConfig(**json) refuses any other key ("unexpected keyword argument"),
     * so a newer key (use_rslora) appears only when its feature is used, and use_dora never (DoRA is not
     * supported). PeftParityTest compares the key set with an adapter PEFT 0.8.2 wrote.
     */
    public String toJson() {
        ObjectNode n = JSON.createObjectNode();
        n.put("peft_type", "LORA");
        n.put("task_type", "SEQ_CLS");
        if (baseModelNameOrPath == null) {
            n.putNull("base_model_name_or_path");
        } else {
            n.put("base_model_name_or_path", baseModelNameOrPath);
        }
        n.putNull("revision");
        n.put("inference_mode", true);
        n.put("r", r);
        n.put("lora_alpha", loraAlpha);
        n.put("lora_dropout", loraDropout);
        if (allLinear()) {
            n.put("target_modules", ALL_LINEAR);
        } else {
            ArrayNode t = n.putArray("target_modules");
            targetModules.forEach(t::add);
        }
        if (layersToTransform == null) {
            n.putNull("layers_to_transform");
        } else {
            ArrayNode l = n.putArray("layers_to_transform");
            layersToTransform.forEach(l::add);
        }
        n.putNull("layers_pattern");
        ArrayNode m = n.putArray("modules_to_save");
        modulesToSave.forEach(m::add);
        n.put("bias", bias);
        n.put("fan_in_fan_out", false);
        if (useRslora) {
            n.put("use_rslora", true); // PEFT 0.7+; written only when set, so that PEFT 0.6 reads the default
        }
        n.put("init_lora_weights", true);
        n.putObject("rank_pattern");
        n.putObject("alpha_pattern");
        try {
            return JSON.writeValueAsString(n) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public void write(Path dir) {
        AtomicFiles.writeString(dir.resolve(FILE), toJson());
    }

    public static LoraConfig read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            throw new CheckpointException(dir + ": no " + FILE + "; this is not a PEFT adapter directory");
        }
        JsonNode n;
        try {
            n = JSON.readTree(f.toFile());
        } catch (IOException e) {
            throw new CheckpointException(f + ": not valid JSON (" + e.getMessage() + ")", e);
        }
        String type = n.path("peft_type").asText("LORA");
        if (!type.equals("LORA")) {
            throw new CheckpointException(f + ": peft_type " + type + " is not supported; only LORA adapters are");
        }
        if (n.path("use_dora").asBoolean(false)) {
            throw new CheckpointException(f + ": DoRA adapters (use_dora=true) are not supported");
        }
        if (n.path("fan_in_fan_out").asBoolean(false)) {
            throw new CheckpointException(f + ": fan_in_fan_out=true (GPT-2 style Conv1D) does not apply to BERT-family models");
        }
        if (n.has("rank_pattern") && n.get("rank_pattern").size() > 0 || n.has("alpha_pattern") && n.get("alpha_pattern").size() > 0) {
            throw new CheckpointException(f + ": per-module rank_pattern / alpha_pattern are not supported");
        }
        List<String> targets = new ArrayList<>();
        JsonNode t = n.path("target_modules");
        if (t.isTextual()) {
            if (!t.asText().equals(ALL_LINEAR)) {
                throw new CheckpointException(f + ": target_modules as a regular expression (\"" + t.asText()
                        + "\") is not supported; list the module names");
            }
            targets.add(ALL_LINEAR);
        } else {
            t.forEach(x -> targets.add(x.asText()));
        }
        List<Integer> layers = null;
        JsonNode l = n.path("layers_to_transform");
        if (l.isInt()) {
            layers = List.of(l.asInt());
        } else if (l.isArray()) {
            layers = new ArrayList<>();
            for (JsonNode x : l) {
                layers.add(x.asInt());
            }
        }
        List<String> save = new ArrayList<>();
        n.path("modules_to_save").forEach(x -> save.add(x.asText()));
        if (n.path("task_type").asText("").equals("SEQ_CLS")) {
            // PeftModelForSequenceClassification adds the head to modules_to_save by itself (even when the
            // file says null) and saves it: a Python adapter holds classifier.* without listing it.
            for (String head : List.of("classifier", "score")) {
                if (!save.contains(head)) {
                    save.add(head);
                }
            }
        }
        try {
            return new LoraConfig(n.path("r").asInt(8), n.path("lora_alpha").asDouble(8), n.path("lora_dropout").asDouble(0),
                    targets, layers, save, n.path("bias").asText("none"), n.path("use_rslora").asBoolean(false),
                    n.path("base_model_name_or_path").isTextual() ? n.get("base_model_name_or_path").asText() : null);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(f + ": " + e.getMessage());
        }
    }
}
