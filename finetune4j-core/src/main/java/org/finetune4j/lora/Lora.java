package org.finetune4j.lora;

import ai.djl.ndarray.NDManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Linear;
import org.finetune4j.nn.Param;

/**
 * LoRA on a {@link TransformerModel}, as PEFT's LoraModel does it: wraps the targeted linear layers,
 * trains only the LoRA matrices and the modules to save (the classification head), and saves them
 * as a PEFT adapter ({@code adapter_config.json} + {@code adapter_model.safetensors} with keys
 * {@code base_model.model.<module>.lora_A.weight} etc.) that Python PEFT loads, and that loads here.
 */
public final class Lora {
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PEFT's prefix for every key of a PeftModel's state dict. */
    public static final String PEFT_PREFIX = "base_model.model.";
    /** PEFT's COMMON_LAYERS_PATTERN, for layers_to_transform. */
    private static final Pattern LAYER_INDEX = Pattern.compile(".*\\.(?:layers|h|block|blocks|layer)\\.(\\d+)\\..*");

    private final TransformerModel model;
    private final LoraConfig config;
    private final List<LoraLayer> layers;
    /** The model parameters (not LoRA matrices) whose values came from a loaded adapter's file. */
    private final Set<String> restored = new LinkedHashSet<>();

    private Lora(TransformerModel model, LoraConfig config, List<LoraLayer> layers) {
        this.model = model;
        this.config = config;
        this.layers = layers;
    }

    /**
     * Wraps the layers {@code config} targets with fresh LoRA branches (A drawn with {@code seed}, B zero).
     * Unknown target names are an error that lists the model's linear modules.
     */
    public static Lora inject(TransformerModel model, LoraConfig asked, long seed) {
        LoraConfig config = asked.forModelType(model.config().encoder().modelType());
        List<Linear> targets = targets(model, config);
        List<LoraLayer> layers = new ArrayList<>();
        for (Linear l : targets) {
            if (l.adapter() != null) {
                throw new IllegalStateException(l.name() + " already has an adapter; unload it first");
            }
            LoraLayer ll = new LoraLayer(model.parameters(), l, config);
            l.setAdapter(ll);
            layers.add(ll);
        }
        model.parameters().initializeMissing(seed);
        return new Lora(model, config, layers);
    }

    /** PEFT's check_target_module_exists: a module matches a target if its name equals it or ends with "." + it. */
    static List<Linear> targets(TransformerModel model, LoraConfig config) {
        List<Linear> linears = model.encoder().linears();
        List<Linear> out = new ArrayList<>();
        Set<String> unmatched = new LinkedHashSet<>(config.allLinear() ? List.of() : config.targetModules());
        for (Linear l : linears) {
            String name = l.name();
            boolean hit = config.allLinear();
            for (String t : config.targetModules()) {
                if (name.equals(t) || name.endsWith("." + t)) {
                    hit = true;
                    unmatched.remove(t);
                }
            }
            if (hit && config.layersToTransform() != null) {
                Matcher m = LAYER_INDEX.matcher(name);
                hit = m.matches() && config.layersToTransform().contains(Integer.parseInt(m.group(1)));
            }
            if (hit) {
                out.add(l);
            }
        }
        if (!unmatched.isEmpty() || out.isEmpty()) {
            throw new IllegalArgumentException("LoRA target modules " + (unmatched.isEmpty() ? config.targetModules() : unmatched)
                    + " match no linear layer of this " + model.config().encoder().modelType() + " model. Its linear modules are: "
                    + linearModuleNames(model) + " (or use all-linear)." + queryValueHint(model));
        }
        return out;
    }

    private static String queryValueHint(TransformerModel model) {
        String type = model.config().encoder().modelType();
        List<String> qv = LoraConfig.queryValueTargets(type);
        return qv.isEmpty() ? "" : " Its query and value projections are " + String.join(",", qv)
                + ": pass --lora-target-modules " + String.join(",", qv) + ".";
    }

    /** The distinct target names a user can give: each linear module's path below its layer index. */
    public static Set<String> linearModuleNames(TransformerModel model) {
        Set<String> names = new TreeSet<>();
        for (Linear l : model.encoder().linears()) {
            String n = l.name();
            Matcher m = Pattern.compile(".*\\.(?:layer)\\.\\d+\\.(.*)").matcher(n);
            // DeBERTa's ContextPooler ("pooler.dense") sits outside its encoder's prefix ("deberta.").
            String prefix = model.encoder().prefix();
            names.add(m.matches() ? m.group(1) : n.startsWith(prefix) ? n.substring(prefix.length()) : n);
        }
        return names;
    }

    // ---------------------------------------------------------------------------------------------
    // What trains, what is saved

    /**
     * Whether a parameter belongs to a module to save: PEFT wraps every module whose name ends with an
     * entry of modules_to_save (so "classifier" also covers DistilBERT's "pre_classifier").
     */
    boolean inModulesToSave(String param) {
        String module = param.substring(0, param.lastIndexOf('.'));
        for (String m = module; ; ) {
            for (String target : config.modulesToSave()) {
                if (m.endsWith(target)) {
                    return true;
                }
            }
            int dot = m.lastIndexOf('.');
            if (dot < 0) {
                return false;
            }
            m = m.substring(0, dot);
        }
    }

    private boolean isLoraParam(String name) {
        return name.contains(".lora_A.") || name.contains(".lora_B.");
    }

    private boolean biasSaved(String name) {
        if (!name.endsWith(".bias")) {
            return false;
        }
        return switch (config.bias()) {
            case "all" -> true;
            case "lora_only" -> layers.stream().anyMatch(l -> name.equals(l.base().name() + ".bias"));
            default -> false;
        };
    }

    /** The parameters saved in the adapter: LoRA matrices, modules to save, biases per {@code bias}. */
    public boolean saved(String name) {
        return isLoraParam(name) || inModulesToSave(name) || biasSaved(name);
    }

    /** Marks exactly the adapter's parameters trainable (with gradients) and returns them. */
    public List<Param> makeTrainable() {
        model.parameters().setTrainable(this::saved);
        for (Param p : model.parameters().params().values()) {
            p.array().setRequiresGradient(p.trainable());
        }
        return model.parameters().trainable();
    }

    // ---------------------------------------------------------------------------------------------
    // Merge

    /** Adds every update into its base weight (B A scale); the LoRA branches then pass through. */
    public void merge() {
        try (NDManager scratch = model.manager().getParentManager().newSubManager()) {
            layers.forEach(l -> l.merge(scratch));
        }
    }

    /** Subtracts the updates again, restoring the base weights. */
    public void unmerge() {
        try (NDManager scratch = model.manager().getParentManager().newSubManager()) {
            layers.forEach(l -> l.unmerge(scratch));
        }
    }

    /** Removes the LoRA branches and their parameters, leaving the base model (and the current head). */
    public void unload() {
        unmerge();
        List<Param> params = new ArrayList<>();
        for (LoraLayer l : layers) {
            l.base().setAdapter(null);
            params.add(l.loraA);
            params.add(l.loraB);
        }
        model.parameters().unregister(params);
    }

    /**
     * Writes a plain Hugging Face checkpoint of the merged model (base weights + B A scale, the trained
     * head) to {@code dir}: no LoRA parameters, loadable by transformers without PEFT.
     */
    public void saveMerged(Path dir) {
        merge();
        try {
            Map<String, HostTensor> weights = model.parameters().stateDictViews(k -> !isLoraParam(k));
            org.finetune4j.io.WeightFiles.write(dir, weights, org.finetune4j.io.WeightFiles.DEFAULT_MAX_SHARD_BYTES);
            model.config().write(dir);
        } finally {
            unmerge();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Adapter files

    /** Writes adapter_config.json and adapter_model.safetensors (PEFT's format) into {@code dir}. */
    public void save(Path dir) {
        Map<String, HostTensor> tensors = new LinkedHashMap<>();
        model.parameters().stateDictViews(this::saved).forEach((k, v) -> tensors.put(PEFT_PREFIX + k, v));
        SafeTensors.write(dir.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        config.write(dir);
    }

    /**
     * Loads a PEFT LoRA adapter onto {@code model} (whose head must match the adapter's), checking that
     * every tensor fits: an adapter of another base model is refused with the mismatching shapes.
     */
    public static Lora load(TransformerModel model, Path dir) {
        LoraConfig config = LoraConfig.read(dir);
        Path weights = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new CheckpointException(dir + ": no " + WEIGHTS_FILE + " (adapter_model.bin pickles are not read;"
                    + " re-save the adapter with safe_serialization=True)");
        }
        Map<String, HostTensor> saved = new LinkedHashMap<>();
        for (var e : SafeTensors.readFile(weights).entrySet()) {
            String k = e.getKey().startsWith(PEFT_PREFIX) ? e.getKey().substring(PEFT_PREFIX.length()) : e.getKey();
            saved.put(k, e.getValue());
        }
        checkFits(model, config, saved, dir);
        Lora lora = inject(model, config, 0);
        List<String> unused = new ArrayList<>();
        for (var e : saved.entrySet()) {
            if (model.parameters().params().containsKey(e.getKey())) {
                model.parameters().set(e.getKey(), e.getValue());
                if (!lora.isLoraParam(e.getKey())) {
                    lora.restored.add(e.getKey());
                }
            } else {
                unused.add(e.getKey());
            }
        }
        if (!unused.isEmpty()) {
            lora.unload();
            throw new CheckpointException(dir + ": the adapter holds tensors this model does not have: "
                    + unused.subList(0, Math.min(5, unused.size())) + ". It was trained on another architecture.");
        }
        for (LoraLayer l : lora.layers) {
            if (!saved.containsKey(l.loraA.name()) || !saved.containsKey(l.loraB.name())) {
                lora.unload();
                throw new CheckpointException(dir + ": adapter_config.json targets " + l.base().name()
                        + " but adapter_model.safetensors has no LoRA weights for it");
            }
        }
        return lora;
    }

    /**
     * Whether {@code param}'s value came from the loaded adapter (a module to save, such as the head, or
     * a bias), so that it replaced whatever the base checkpoint had or lacked.
     */
    public boolean restored(String param) {
        return restored.contains(param);
    }

    /** Refuses an adapter whose LoRA shapes do not fit the base model's layers, naming both shapes. */
    private static void checkFits(TransformerModel model, LoraConfig config, Map<String, HostTensor> saved, Path dir) {
        Map<String, Linear> byName = new LinkedHashMap<>();
        model.encoder().linears().forEach(l -> byName.put(l.name(), l));
        List<String> problems = new ArrayList<>();
        for (var e : saved.entrySet()) {
            String k = e.getKey();
            long[] shape = e.getValue().shape();
            if (k.endsWith(".lora_A.weight") || k.endsWith(".lora_B.weight")) {
                String module = k.substring(0, k.length() - ".lora_A.weight".length());
                Linear l = byName.get(module);
                if (l == null) {
                    problems.add(k + " wraps " + module + ", which this " + model.config().architecture() + " does not have");
                    continue;
                }
                long[] expected = k.endsWith(".lora_A.weight") ? new long[] {config.r(), l.inFeatures()}
                        : new long[] {l.outFeatures(), config.r()};
                if (!Arrays.equals(shape, expected)) {
                    problems.add(k + ": adapter " + Arrays.toString(shape) + ", base model needs " + Arrays.toString(expected));
                }
            } else if (model.parameters().params().containsKey(k)) {
                long[] expected = model.parameters().get(k).shape().getShape();
                if (!Arrays.equals(shape, expected)) {
                    problems.add(k + ": adapter " + Arrays.toString(shape) + ", model " + Arrays.toString(expected));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new CheckpointException(dir + ": this adapter does not fit the loaded base model ("
                    + model.config().architecture() + ", hidden size " + model.config().encoder().hiddenSize() + ", "
                    + model.config().encoder().numLayers() + " layers, " + model.config().numLabels() + " labels): "
                    + String.join("; ", problems.subList(0, Math.min(5, problems.size())))
                    + ". Load it onto the base model it was trained from (adapter_config.json names it: "
                    + config.baseModelNameOrPath() + ").");
        }
    }

    /** Number of classes an adapter's saved head predicts, read from its classifier weights (or -1). */
    public static int savedNumLabels(Path dir) {
        try (SafeTensors st = SafeTensors.open(dir.resolve(WEIGHTS_FILE))) {
            for (String k : List.of("classifier.weight", "classifier.out_proj.weight")) {
                SafeTensors.Entry e = st.entries().get(PEFT_PREFIX + k);
                if (e != null) {
                    return (int) e.shape()[0];
                }
            }
            return -1;
        }
    }

    public LoraConfig config() {
        return config;
    }

    public List<LoraLayer> layers() {
        return layers;
    }

    public TransformerModel model() {
        return model;
    }
}
