package org.finetune4j.train;

import java.nio.file.Path;

/** The loss or the gradients stopped being finite numbers; training stopped without saving a final model. */
public final class TrainingDivergedException extends RuntimeException {
    private final long step;
    private final Path lastGoodCheckpoint;

    public TrainingDivergedException(long step, String what, Path lastGoodCheckpoint) {
        super("training diverged at optimizer step " + step + ": " + what + ". "
                + (lastGoodCheckpoint == null ? "No checkpoint had been written yet."
                        : "The last good checkpoint is " + lastGoodCheckpoint + " (resume from it with a lower learning rate).")
                + " Try a lower --learning-rate, warmup (--warmup-ratio 0.1) or gradient clipping (--max-grad-norm 1).");
        this.step = step;
        this.lastGoodCheckpoint = lastGoodCheckpoint;
    }

    public long step() {
        return step;
    }

    public Path lastGoodCheckpoint() {
        return lastGoodCheckpoint;
    }
}
