package org.finetune4j.data;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * How to read a data file: its format and which columns hold what. Columns are named by the header
 * line, by {@code columnNames} when the file has no header, or, with neither, by their 0-based position
 * ("0", "1", ...) as pandas does with {@code header=None}. For JSON Lines the "columns" are the fields of
 * each object.
 *
 * @param format the file format, or AUTO to decide from the file name
 * @param textColumn the column holding the text
 * @param textPairColumn the column holding the second text of a pair, or null
 * @param labelColumn the column holding the label(s), or null for unlabelled data to predict on
 * @param idColumn the column holding an example id, or null to use the 0-based data row number
 * @param header whether the first line of a CSV/TSV file names the columns (ignored for JSON Lines)
 * @param columnNames names for the columns of a file without header, or empty
 * @param labelSeparator null for single-label data; otherwise the separator between the labels of a
 *     multi-label example (e.g. "," or "|"); a JSON array in JSON Lines also gives several labels
 * @param integerLabels when true, every label must be an integer and a non-integer one is an error
 *     (e.g. a shifted column); when false, labels are any strings
 * @param encoding the file's character encoding; bytes invalid in it are an error, never replaced
 */
public record ReadOptions(Format format, String textColumn, String textPairColumn, String labelColumn, String idColumn,
                          boolean header, List<String> columnNames, String labelSeparator, boolean integerLabels,
                          Charset encoding) {

    public ReadOptions {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(encoding, "encoding");
        columnNames = List.copyOf(columnNames);
        if (textColumn == null || textColumn.isBlank()) {
            throw new DataException("the text column is not set; name the column that holds the text (--text-column)");
        }
        if (labelSeparator != null && labelSeparator.isEmpty()) {
            throw new DataException("the label separator is empty; give the string between labels, e.g. \",\" or \"|\"");
        }
        if (header && !columnNames.isEmpty()) {
            throw new DataException("column names were given for a file that has a header line; give names only"
                    + " for a file without header (--no-header)");
        }
    }

    /** A file with a header line, UTF-8, the format from its name, single-label, no pair, no id column. */
    public static ReadOptions of(String textColumn, String labelColumn) {
        return new ReadOptions(Format.AUTO, textColumn, null, labelColumn, null, true, List.of(), null, false,
                StandardCharsets.UTF_8);
    }

    public ReadOptions withFormat(Format f) {
        return new ReadOptions(f, textColumn, textPairColumn, labelColumn, idColumn, header, columnNames,
                labelSeparator, integerLabels, encoding);
    }

    public ReadOptions withTextPairColumn(String column) {
        return new ReadOptions(format, textColumn, column, labelColumn, idColumn, header, columnNames,
                labelSeparator, integerLabels, encoding);
    }

    public ReadOptions withIdColumn(String column) {
        return new ReadOptions(format, textColumn, textPairColumn, labelColumn, column, header, columnNames,
                labelSeparator, integerLabels, encoding);
    }

    /** The same options for unlabelled data (prediction input). */
    public ReadOptions withoutLabels() {
        return new ReadOptions(format, textColumn, textPairColumn, null, idColumn, header, columnNames,
                labelSeparator, integerLabels, encoding);
    }

    /** A file without header line whose columns are, in order, {@code names}. */
    public ReadOptions withoutHeader(String... names) {
        return new ReadOptions(format, textColumn, textPairColumn, labelColumn, idColumn, false, List.of(names),
                labelSeparator, integerLabels, encoding);
    }

    public ReadOptions withLabelSeparator(String separator) {
        return new ReadOptions(format, textColumn, textPairColumn, labelColumn, idColumn, header, columnNames,
                separator, integerLabels, encoding);
    }

    public ReadOptions withIntegerLabels(boolean required) {
        return new ReadOptions(format, textColumn, textPairColumn, labelColumn, idColumn, header, columnNames,
                labelSeparator, required, encoding);
    }

    public ReadOptions withEncoding(Charset charset) {
        return new ReadOptions(format, textColumn, textPairColumn, labelColumn, idColumn, header, columnNames,
                labelSeparator, integerLabels, charset);
    }

    public LabelMode labelMode() {
        if (labelColumn == null) {
            return LabelMode.UNLABELLED;
        }
        return labelSeparator == null ? LabelMode.SINGLE : LabelMode.MULTI;
    }
}
