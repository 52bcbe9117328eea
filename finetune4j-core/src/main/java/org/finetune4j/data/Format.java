package org.finetune4j.data;

import java.nio.file.Path;
import java.util.Locale;

/** The file formats {@link DataReader} reads. */
public enum Format {
    /** Decide from the file name (see {@link #detect(Path)}). */
    AUTO,
    /** Comma-separated, RFC 4180 quoting: quoted fields may hold commas, quotes ("") and line breaks. */
    CSV,
    /**
     * Tab-separated, no quoting at all: a line is a record and tabs separate fields, so quote characters
     * are text. When a line has more tabs than the columns need, the rest belongs to the last column
     * (SMS Spam is {@code label<TAB>text}, split at the first tab).
     */
    TSV,
    /** JSON Lines: one JSON object per line. */
    JSONL;

    /**
     * The format a file name says, ignoring a trailing {@code .gz}: {@code .csv}; {@code .tsv}, {@code .tab};
     * {@code .jsonl}, {@code .ndjson}, {@code .json}.
     *
     * @throws DataException when the name does not tell
     */
    public static Format detect(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".gz")) {
            name = name.substring(0, name.length() - 3);
        }
        int dot = name.lastIndexOf('.');
        String ext = dot < 0 ? "" : name.substring(dot + 1);
        return switch (ext) {
            case "csv" -> CSV;
            case "tsv", "tab" -> TSV;
            case "jsonl", "ndjson", "json" -> JSONL;
            default -> throw new DataException(file + ": cannot tell the format from the file name"
                    + (ext.isEmpty() ? " (it has no extension)" : " (." + ext + ")")
                    + "; set the format to csv, tsv or jsonl (--format)");
        };
    }

    public static Format parse(String s) {
        for (Format f : values()) {
            if (f.name().equalsIgnoreCase(s)) {
                return f;
            }
        }
        throw new DataException("unknown data format \"" + s + "\"; choose auto, csv, tsv or jsonl");
    }
}
