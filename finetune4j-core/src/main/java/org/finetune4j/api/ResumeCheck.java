package org.finetune4j.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.finetune4j.train.TrainingConfig;

/**
 * Whether a run may be resumed with the settings given now. A run writes its run_config.json when it
 * starts (and again, with its results, when it ends); a resume must ask for the same run: the same model,
 * data, split, seed, head and every training setting that changes the model, or the resumed run would
 * train on another split (its validation data leaking into training) and still look like the first.
 * Settings that cannot change the result may differ; so may num_train_epochs, upwards, which is how a
 * finished run is trained further.
 */
final class ResumeCheck {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The parts of run_config.json that describe the run (not where it ran, nor its results). */
    private static final List<String> COMPARED = List.of("model", "data", "head", "problem_type", "training", "lora", "precision");
    /** Training settings that change no weight: logging and how many checkpoints are kept. */
    private static final Set<String> FREE = Set.of("training.logging_steps", "training.save_total_limit",
            "training.num_train_epochs");

    private ResumeCheck() {
    }

    /**
     * Throws when {@code now} (the run_config.json this run would write) asks for another run than the one
     * in {@code dir}, listing each difference, or when that run has finished and {@code now} does not train
     * it further. A directory without run_config.json (a run from before it was written at the start) is
     * resumed unchecked, and says so.
     */
    static void check(Path dir, Map<String, Object> now, java.util.function.Consumer<String> log) {
        Path file = dir.resolve("run_config.json");
        if (!Files.isRegularFile(file)) {
            log.accept("note: " + dir + " has no run_config.json, so the resumed settings cannot be checked against the run's");
            return;
        }
        JsonNode before;
        try {
            before = withTrainingDefaults(JSON.readTree(file.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
        JsonNode after = JSON.valueToTree(now);
        Map<String, String> was = new LinkedHashMap<>();
        Map<String, String> is = new LinkedHashMap<>();
        for (String key : COMPARED) {
            flatten(key, before.path(key), was);
            flatten(key, after.path(key), is);
        }
        List<String> differences = new ArrayList<>();
        Set<String> keys = new java.util.TreeSet<>(was.keySet());
        keys.addAll(is.keySet());
        for (String k : keys) {
            String a = was.getOrDefault(k, "(none)");
            String b = is.getOrDefault(k, "(none)");
            if (!a.equals(b) && !FREE.contains(k)) {
                differences.add(k + ": " + a + " -> " + b);
            }
        }
        if (!differences.isEmpty()) {
            throw new IllegalArgumentException("--resume-from-checkpoint refused: these settings differ from the run in "
                    + dir + ", so the resumed run would not be that run (" + String.join("; ", differences) + ")."
                    + " Resume with the run's own settings (its run_config.json), or start a new run with another"
                    + " --output or --overwrite.");
        }
        int epochsBefore = before.path("training").path("num_train_epochs").asInt();
        int epochsNow = after.path("training").path("num_train_epochs").asInt();
        if (epochsNow < epochsBefore) {
            throw new IllegalArgumentException("--resume-from-checkpoint refused: the run in " + dir + " was set for "
                    + epochsBefore + " epochs and --epochs is " + epochsNow + "; the epoch count can only grow.");
        }
        if (before.hasNonNull("results") && epochsNow == epochsBefore) {
            throw new IllegalArgumentException("--resume-from-checkpoint refused: the run in " + dir + " has finished its "
                    + epochsBefore + " epochs. To train it further give a larger --epochs (the learning-rate schedule then"
                    + " spans the new total); to start again, --overwrite.");
        }
    }

    /**
     * The run's settings with each training setting its run_config.json lacks set to the library's default:
     * a run from before that setting existed trained as its default does (layerwise_lr_decay 1, ...).
     */
    private static JsonNode withTrainingDefaults(JsonNode runConfig) throws IOException {
        if (!(runConfig instanceof ObjectNode rc) || !(rc.get("training") instanceof ObjectNode training)) {
            return runConfig;
        }
        ObjectNode filled = (ObjectNode) JSON.readTree(TrainingConfig.builder().build().toJson());
        filled.setAll(training);
        rc.set("training", filled);
        return rc;
    }

    /** Leaves of {@code node} as "a.b.c" -> JSON text. */
    private static void flatten(String path, JsonNode node, Map<String, String> out) {
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(path + "." + e.getKey(), e.getValue(), out);
            }
        } else if (!node.isMissingNode()) {
            out.put(path, node.toString());
        }
    }
}
