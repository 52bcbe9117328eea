package org.finetune4j.cli;

import picocli.CommandLine.Option;

/**
 * What each training step trains and on which batches (shared by train, compare and bench, which times
 * these steps). No defaults here: {@link TrainingDefaults} gives TrainingConfig's.
 */
final class StepOptions {
    @Option(names = "--frozen-layers", description = "partial: freeze the embeddings and this many lowest layers.")
    int frozenLayers;

    @Option(names = "--batch-size", description = "Training examples per step.")
    int batchSize;

    @Option(names = "--max-length", description = "Truncate texts to this many tokens.")
    int maxLength;

    @Option(names = "--seed", description = "Seeds the data order, dropout, new weights and the split.")
    long seed;
}
