package org.finetune4j.cli;

import java.nio.file.Path;
import java.util.function.Consumer;
import org.finetune4j.api.DataSpec;
import org.finetune4j.data.Splits;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The model and the labelled data a run trains on (shared by train and compare, so every strategy a
 * comparison runs sees the same model, files, cleaning and split).
 */
final class DataSourceOptions {
    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2",
            description = "Model directory, packaged id (all-MiniLM-L6-v2, bge-small-en-v1.5), or Hugging Face Hub id"
                    + " [org/]name[@revision].")
    String model;

    @Option(names = "--train", description = "Training file (CSV, TSV, JSON Lines; .gz allowed).")
    Path train;

    @Option(names = "--validation", description = "Validation file (instead of --split).")
    Path validation;

    @Option(names = "--test", description = "Test file, evaluated once at the end.")
    Path test;

    @Option(names = "--split", description = "Stratified split of --train: train,validation[,test] ratios, e.g. 0.9,0.1."
            + " Default without --validation: 0.9,0.1 (0.8,0.1,0.1 for the example data).")
    String split;

    @Mixin
    DataOptions data = new DataOptions();

    @Mixin
    CleaningOptions cleaning = new CleaningOptions();

    @Option(names = "--split-seed", description = "Seed of the --split (default: --seed). tune fixes it when it searches"
            + " the seed, so that every trial validates on the same rows.")
    Long splitSeed;

    @Option(names = "--keep-duplicates", description = "Keep repeated training texts (default: drop them before splitting).")
    boolean keepDuplicates;

    @Option(names = "--multi-label", description = "Several labels per text (with --label-separator); BCE loss.")
    boolean multiLabel;

    /** The data to train on; without --train, the bundled example data (extracted on first use). */
    DataSpec toDataSpec(Consumer<String> log) {
        String splitText = split;
        Path trainFile = train;
        if (train == null) {
            if (validation != null || test != null) {
                throw new UserError("--validation/--test need --train");
            }
            trainFile = ExampleData.extract(org.finetune4j.onnx.PackagedModels.defaultHome().resolve("examples"));
            splitText = split != null ? split : "0.8,0.1,0.1";
            log.accept("no --train given: fine-tuning " + model + " on the bundled example data " + trainFile);
        } else if (validation == null && split == null) {
            splitText = "0.9,0.1";
        }
        double[] ratios = splitText == null ? null : Splits.parseRatios(splitText);
        return new DataSpec(trainFile, validation, test, ratios, data.toReadOptions(true), cleaning.toCleaner(),
                !keepDuplicates, true, splitSeed);
    }

    /** One line naming the data, for report titles. */
    String describe() {
        String file = train == null ? "bundled example data" : train.getFileName().toString();
        return file + (validation != null ? " + validation " + validation.getFileName() : split != null ? ", split " + split : "");
    }
}
