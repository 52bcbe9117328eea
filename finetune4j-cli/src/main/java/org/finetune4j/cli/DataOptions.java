package org.finetune4j.cli;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import org.finetune4j.data.Format;
import org.finetune4j.data.ReadOptions;
import picocli.CommandLine.Option;

/** How to read a data file: columns, format, encoding (shared by train, evaluate, predict, stats). */
final class DataOptions {
    @Option(names = "--text-column", defaultValue = "text", description = "Column with the text (default: ${DEFAULT-VALUE}).")
    String textColumn;

    @Option(names = "--text-pair-column", description = "Column with a second text (sentence-pair tasks).")
    String textPairColumn;

    @Option(names = "--label-column", defaultValue = "label", description = "Column with the label (default: ${DEFAULT-VALUE}).")
    String labelColumn;

    @Option(names = "--id-column", description = "Column with an example id (default: the row number).")
    String idColumn;

    @Option(names = "--format", defaultValue = "auto",
            description = "auto, csv, tsv or jsonl (default: ${DEFAULT-VALUE}: from the file name, .gz allowed).")
    String format;

    @Option(names = "--no-header", description = "The file has no header line; name its columns with --columns.")
    boolean noHeader;

    @Option(names = "--columns", split = ",", description = "Column names of a file without header, e.g. label,text.")
    List<String> columns = new ArrayList<>();

    @Option(names = "--label-separator", description = "Multi-label: the separator between a row's labels, e.g. '|'.")
    String labelSeparator;

    @Option(names = "--encoding", defaultValue = "UTF-8", description = "Text encoding (default: ${DEFAULT-VALUE}).")
    String encoding;

    ReadOptions toReadOptions(boolean labelled) {
        ReadOptions r = ReadOptions.of(textColumn, labelled ? labelColumn : null);
        if (!labelled) {
            r = r.withoutLabels();
        }
        r = r.withFormat(Format.valueOf(format.toUpperCase(java.util.Locale.ROOT)));
        if (textPairColumn != null) {
            r = r.withTextPairColumn(textPairColumn);
        }
        if (idColumn != null) {
            r = r.withIdColumn(idColumn);
        }
        if (noHeader) {
            r = r.withoutHeader(columns.toArray(String[]::new));
        } else if (!columns.isEmpty()) {
            throw new UserError("--columns names the columns of a file without header: add --no-header");
        }
        if (labelSeparator != null) {
            r = r.withLabelSeparator(labelSeparator);
        }
        if (!encoding.equalsIgnoreCase("UTF-8")) {
            r = r.withEncoding(Charset.forName(encoding));
        }
        return r;
    }
}
