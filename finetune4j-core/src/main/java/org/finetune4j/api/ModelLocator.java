package org.finetune4j.api;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.finetune4j.hub.HubConfig;
import org.finetune4j.hub.HubModelId;
import org.finetune4j.hub.HubModels;
import org.finetune4j.io.CheckpointException;

/**
 * Turns what a user types after {@code --model} into a local Hugging Face model directory:
 * <ol>
 *   <li>an existing directory is used as it is, even when its path could also be read as a Hub id;
 *   <li>an id that a {@link ModelSource} on the class path knows: with finetune4j-onnx, the packaged models
 *       ({@code all-MiniLM-L6-v2}, {@code bge-small-en-v1.5}, or their Hub names), imported from their Maven
 *       artifacts on first use and cached;
 *   <li>a Hugging Face Hub id, {@code org/name} or {@code org/name@revision}, or a legacy single name such as
 *       {@code bert-base-uncased} (which the Hub redirects to its current {@code google-bert/} name), is
 *       downloaded into the Hugging Face cache (see {@link HubModels}); add a revision, e.g. {@code @main}, to take a packaged model's
 *       Hub name from the Hub instead. An id whose first part is a local directory ({@code runs/tweet} with
 *       {@code runs/} here) is taken for a mistyped path, and is an error, unless it names a revision.
 * </ol>
 */
public final class ModelLocator {
    private ModelLocator() {
    }

    /** Resolves {@code model} with the Hub settings of the environment (HF_ENDPOINT, HF_HUB_CACHE, ...). */
    public static Path resolve(String model) {
        return resolve(model, HubConfig::fromEnvironment);
    }

    /** Resolves {@code model} with the given Hub settings. */
    public static Path resolve(String model, HubConfig hub) {
        return resolve(model, () -> hub);
    }

    /** The environment is read only for a Hub id, so a bad HF_ENDPOINT cannot break local models. */
    private static Path resolve(String model, Supplier<HubConfig> hub) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) {
            return p;
        }
        List<ModelSource> sources = ModelSource.installed();
        for (ModelSource source : sources) {
            Optional<Path> dir = source.resolve(model);
            if (dir.isPresent()) {
                return dir.get();
            }
        }
        String hubProblem = null;
        if (looksLikePath(model)) {
            hubProblem = "it is a path, and no directory is there";
        } else if (!model.contains("@") && Files.isDirectory(p.getParent() == null ? p : p.getParent())) {
            // "runs/tweet" when runs/ is here: a mistyped local path, not a Hub repository to download.
            throw new CheckpointException("model \"" + model + "\": no such directory, although " + p.getParent()
                    + "/ exists here" + siblings(p) + ". Give the path of a model directory, or, to download the Hub"
                    + " model of that name, add a revision: " + model + "@main.");
        } else {
            hubProblem = HubModelId.problem(model);
            if (hubProblem == null) {
                return HubModels.download(HubModelId.parse(model), hub.get());
            }
        }
        throw new CheckpointException("model \"" + model + "\" is not a directory, a packaged model ("
                + String.join(", ", sources.stream().flatMap(src -> src.ids().stream()).toList())
                + ") or a Hugging Face Hub id (" + hubProblem + "). Give the path of a Hugging Face model directory"
                + " (config.json, model.safetensors, tokenizer.json), a packaged id, or a Hub id [org/]name[@revision]"
                + " such as google-bert/bert-base-uncased.");
    }

    /**
     * What an adapter trained on {@code model} (as typed after {@code --model}) records as its
     * base_model_name_or_path: the Hugging Face Hub id where one is known, so that Python loads the base
     * from it (AutoPeftModelForSequenceClassification.from_pretrained reads this field), else {@code model}
     * as typed, as PEFT records whatever name or path from_pretrained was given. Known ids: a packaged
     * model's upstream repository ({@link ModelSource#hubId}), a Hub id without its revision, and a
     * directory in the Hugging Face cache ({@code .../models--org--name/snapshots/<commit>}). Downloads
     * and imports nothing.
     */
    public static String baseModelName(String model) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) {
            return hubCacheRepoId(p.toAbsolutePath().normalize()).orElse(model);
        }
        for (ModelSource source : ModelSource.installed()) {
            Optional<String> id = source.hubId(model);
            if (id.isPresent()) {
                return id.get();
            }
        }
        if (!looksLikePath(model) && HubModelId.problem(model) == null) {
            return HubModelId.parse(model).repoId();
        }
        return model;
    }

    /** The repo id of a snapshot directory in huggingface_hub's cache layout (models--org--name/snapshots/commit). */
    static Optional<String> hubCacheRepoId(Path dir) {
        Path snapshots = dir.getParent();
        Path repo = snapshots == null ? null : snapshots.getParent();
        if (repo == null || !snapshots.getFileName().toString().equals("snapshots")
                || !repo.getFileName().toString().startsWith("models--")) {
            return Optional.empty();
        }
        return Optional.of(repo.getFileName().toString().substring("models--".length()).replace("--", "/"));
    }

    /** ", which holds a, b, c" for the directories beside {@code p}, to show the names that do exist. */
    private static String siblings(Path p) {
        try (var list = Files.list(p.getParent())) {
            List<String> dirs = list.filter(Files::isDirectory).map(d -> d.getFileName().toString()).sorted().limit(6).toList();
            return dirs.isEmpty() ? "" : ", which holds " + String.join(", ", dirs) + (dirs.size() == 6 ? ", ..." : "");
        } catch (java.io.IOException e) {
            return "";
        }
    }

    /** Spellings that only a path has: a Hub id never starts with '/', '.', '~' or a drive, nor holds a backslash. */
    private static boolean looksLikePath(String model) {
        return model.startsWith("/") || model.startsWith(".") || model.startsWith("~") || model.contains("\\")
                || model.matches("[A-Za-z]:.*");
    }
}
