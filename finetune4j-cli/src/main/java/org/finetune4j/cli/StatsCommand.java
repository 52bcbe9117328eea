package org.finetune4j.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.finetune4j.api.DataSummary;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.ReadOptions;
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
        boolean labelled = !unlabelled;
        if (labelled) {
            // A file without the label column (a test file, texts to predict) is described without labels:
            // its text statistics are what stats is for, and the note says why there is no class balance.
            ReadOptions withLabels = read.toReadOptions(true);
            List<String> columns = DataReader.columns(data, withLabels);
            if (!columns.isEmpty() && !columns.contains(withLabels.labelColumn())) {
                labelled = false;
                System.err.println(data + ": no label column '" + withLabels.labelColumn() + "' (the columns are "
                        + String.join(", ", columns) + "): describing the texts without labels. Name the label column with"
                        + " --label-column, or pass --unlabelled to skip this note.");
            }
        }
        DataSummary s = DataSummary.describe(data, read.toReadOptions(labelled), cleaning.toCleaner(),
                ModelLocator.resolve(model));
        System.out.print(json ? Reports.json(s.toMap()) + "\n" : s.toText());
        return 0;
    }
}
