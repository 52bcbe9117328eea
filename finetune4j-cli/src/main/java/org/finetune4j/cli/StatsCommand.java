package org.finetune4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.finetune4j.api.DataSummary;
import org.finetune4j.api.ModelLocator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Describes a data file before training: class balance, duplicates, token lengths, a suggested max_length. */
@Command(name = "stats", mixinStandardHelpOptions = true, sortOptions = false, showDefaultValues = true,
        description = {"Describe a data file: rows, class balance, empty and duplicate texts, token-length"
                + " distribution (with the model's tokenizer) and a suggested --max-length."})
final class StatsCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "Data file (CSV, TSV, JSON Lines; .gz allowed).")
    Path data;

    @Mixin
    DataOptions read = new DataOptions();

    @Mixin
    CleaningOptions cleaning = new CleaningOptions();

    @Option(names = "--unlabelled", description = "The file has no labels (e.g. a test file): skip the class balance.")
    boolean unlabelled;

    @Option(names = "--model", defaultValue = "all-MiniLM-L6-v2", description = "Model whose tokenizer counts the tokens.")
    String model;

    @Option(names = "--json", description = "Print JSON instead of text.")
    boolean json;

    @Override
    public Integer call() {
        DataSummary s = DataSummary.describe(data, read.toReadOptions(!unlabelled), cleaning.toCleaner(),
                ModelLocator.resolve(model));
        System.out.print(json ? Reports.json(s.toMap()) + "\n" : s.toText());
        return 0;
    }
}
