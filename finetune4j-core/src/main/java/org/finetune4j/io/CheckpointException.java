package org.finetune4j.io;

/**
 * A checkpoint, config or tokenizer file could not be used. The message always names the file (and
 * key or field where it applies) and says what to do next.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
