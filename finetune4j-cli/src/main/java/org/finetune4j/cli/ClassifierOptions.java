package org.finetune4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.api.TextClassifier;
import picocli.CommandLine.Option;

/** The trained classifier a command uses: a model directory, or a base model plus a LoRA adapter (evaluate, predict, serve). */
final class ClassifierOptions {
    @Option(names = "--model", required = true,
            description = "Trained model directory, or with --adapter the base model (directory, packaged id or Hub id).")
    String model;

    @Option(names = "--adapter", description = "LoRA adapter directory trained on --model.")
    Path adapter;

    @Option(names = "--max-length", paramLabel = "TOKENS", defaultValue = "0",
            description = "Truncate texts to this many tokens instead of the length the model was trained with"
                    + " (0, the default: that length).")
    int maxLength;

    @picocli.CommandLine.Mixin
    PrecisionOption precision = new PrecisionOption();

    /** The model directory --model names (a packaged or Hub id is imported or downloaded first). */
    Path modelDir() {
        if (adapter != null && !Files.isDirectory(adapter)) {
            throw new UserError("--adapter " + adapter + " is not a directory: give the adapter directory a LoRA run wrote");
        }
        return ModelLocator.resolve(model);
    }

    /** Loads the classifier from {@code modelDir} (from {@link #modelDir()}) and the adapter, if any. */
    TextClassifier load(Path modelDir) {
        precision.apply(System.err);
        if (maxLength < 0) {
            throw new UserError("--max-length " + maxLength + ": give a positive number of tokens, or 0 for the model's own");
        }
        try {
            return adapter == null ? TextClassifier.load(modelDir, maxLength) : TextClassifier.load(modelDir, adapter, maxLength);
        } catch (IllegalArgumentException e) {
            throw new UserError("--max-length: " + e.getMessage());
        }
    }

    /** For messages: "model" or "base + adapter". */
    String describe() {
        return adapter == null ? model : model + " + " + adapter;
    }
}
