package org.finetune4j.api;

import java.nio.file.Files;
import java.nio.file.Path;
import org.finetune4j.io.CheckpointException;

/**
 * Turns what a user types after {@code --model} into a local Hugging Face model directory: an
 * existing directory is used as it is.
 */
public final class ModelLocator {
    private ModelLocator() {
    }

    public static Path resolve(String model) {
        Path p = Path.of(model);
        if (Files.isDirectory(p)) {
            return p;
        }
        throw new CheckpointException("model \"" + model + "\" is not a directory. Give the path of a Hugging Face model"
                + " directory (config.json, model.safetensors, tokenizer.json).");
    }
}
