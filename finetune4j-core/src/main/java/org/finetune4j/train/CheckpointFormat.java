package org.finetune4j.train;

import java.nio.file.Path;

/**
 * How the trained part of a model is written into a checkpoint directory and read back: a whole
 * Hugging Face model directory for full, partial and frozen runs; a PEFT adapter directory for LoRA.
 */
public interface CheckpointFormat {
    /** Writes what a user can load from this checkpoint (model or adapter, config, tokenizer). */
    void save(Path dir);

    /** Loads the trained parameters saved by {@link #save} back into the live model. */
    void restore(Path dir);
}
