package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.finetune4j.nn.StepGradients;

/**
 * A labelled dataset as the training loop sees it: it can run the model on any batch of its examples.
 * Implementations: tokenised texts through the whole model, or cached encoder features through the
 * head only (the frozen strategy).
 */
public interface Examples {
    int size();

    /** Tokens of example i (for batch planning and throughput figures). */
    int tokenCount(int i);

    /**
     * logits (B, C) for the examples {@code idx}; arrays are created in {@code m}. A training step passes
     * {@code rows} to collect the embedding tables' gradients row by row ({@link StepGradients});
     * null at evaluation.
     */
    NDArray logits(NDManager m, int[] idx, boolean training, StepGradients rows);

    /** Targets for {@code idx}: (B) int64 class ids, or (B, C) float32 multi-hot. */
    NDArray labels(NDManager m, int[] idx);

    /** Gold class ids for single-label data, else null. */
    int[] goldIds();

    /** Gold label sets for multi-label data, else null. */
    boolean[][] goldSets();
}
