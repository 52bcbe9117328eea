package org.finetune4j.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads a CSV, TSV or JSON Lines file (optionally gzip-compressed) into a {@link Dataset}.
 *
 * <p>Every problem is reported with the file, the line and the column, and what to do: a column that is
 * not there (with the columns that are), an empty file, a row with the wrong number of fields, an
 * unclosed quote, invalid bytes for the encoding, an empty or non-integer label. Text is kept exactly as
 * written (no trimming); cleaning is a separate, explicit step ({@link TextCleaner}). Labels are trimmed.
 */
public final class DataReader {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** RFC 4180: quoted fields may hold the delimiter, doubled quotes and line breaks; CRLF or LF record ends. */
    private static final CSVFormat CSV = CSVFormat.RFC4180.builder().setIgnoreEmptyLines(true).build();

    private DataReader() {
    }

    public static Dataset read(Path file, ReadOptions options) {
        Format format = options.format() == Format.AUTO ? Format.detect(file) : options.format();
        List<Example> examples = new ArrayList<>();
        try (StrictTextReader text = StrictTextReader.open(file, options.encoding())) {
            switch (format) {
                case CSV -> readCsv(file, text, options, examples);
                case TSV -> readTsv(file, text, options, examples);
                case JSONL -> readJsonLines(file, text, options, examples);
                default -> throw new IllegalStateException(format.toString());
            }
        } catch (IOException e) {
            throw new DataException(file + ": cannot read the file (" + e.getMessage() + ")", e);
        }
        if (examples.isEmpty()) {
            throw new DataException(file + ": the file has no data rows" + (format != Format.JSONL && options.header()
                    ? " (at most a header line)" : "") + "; check that it is the right file");
        }
        return new Dataset(file.toString(), examples, options.labelMode());
    }

    /**
     * The columns a file offers: its header (CSV, TSV), the names given for a file without one (or the
     * positions "0", "1", ...), or the keys of the first JSON object. Empty for an empty file. Lets a caller
     * ask whether a column exists before reading, e.g. {@code stats} on a file without labels.
     */
    public static List<String> columns(Path file, ReadOptions options) {
        Format format = options.format() == Format.AUTO ? Format.detect(file) : options.format();
        try (StrictTextReader text = StrictTextReader.open(file, options.encoding())) {
            List<String> first = List.of();
            if (format == Format.CSV) {
                Iterator<CSVRecord> records = CSV.parse(text).iterator();
                first = records.hasNext() ? records.next().toList() : List.of();
            } else {
                for (String s = text.readLine(); s != null; s = text.readLine()) {
                    if (s.isBlank()) {
                        continue;
                    }
                    if (format == Format.JSONL) {
                        List<String> keys = new ArrayList<>();
                        JSON.readTree(s).fieldNames().forEachRemaining(keys::add);
                        return keys;
                    }
                    first = List.of(s.split("\t", -1));
                    break;
                }
            }
            if (first.isEmpty() || options.header()) {
                return first;
            }
            if (!options.columnNames().isEmpty()) {
                return options.columnNames();
            }
            List<String> positions = new ArrayList<>();
            for (int i = 0; i < first.size(); i++) {
                positions.add(Integer.toString(i));
            }
            return positions;
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            throw new DataException(file + ": cannot read its first line (" + rootMessage(e) + ")", e);
        }
    }

    // ---- CSV and TSV: a header (or given names), then rows of fields -------------------------------

    /** Which field index holds each wanted column of a CSV/TSV file. */
    private record Columns(int text, int pair, int label, int id, int count, List<String> names) {
    }

    private static void readCsv(Path file, StrictTextReader text, ReadOptions o, List<Example> out) throws IOException {
        CSVParser parser = CSV.parse(text);
        Iterator<CSVRecord> records = parser.iterator();
        Columns columns = null;
        long rowNumber = 0;
        while (true) {
            long startLine = parser.getCurrentLineNumber() + 1;
            CSVRecord record;
            try {
                if (!records.hasNext()) {
                    break;
                }
                record = records.next();
            } catch (UncheckedIOException | IllegalStateException e) {
                throw new DataException(file + ": the CSV record starting near line " + startLine + " is malformed ("
                        + rootMessage(e) + "). Most often a double quote opens a field and never closes; quote the"
                        + " field and double its inner quotes (\"\"), or, if the file is tab-separated text with"
                        + " stray quotes, read it as TSV (--format tsv).", e);
            }
            long line = text.lineOf(record.getCharacterPosition());
            List<String> fields = record.toList();
            if (columns == null) {
                columns = resolveColumns(file, o, fields, line);
                if (o.header()) {
                    continue;
                }
            }
            if (fields.size() != columns.count()) {
                throw ragged(file, line, fields.size(), columns, "a field that holds a comma, quote or line break"
                        + " must be enclosed in double quotes");
            }
            out.add(toExample(file, o, columns, fields, line, rowNumber++));
        }
    }

    private static void readTsv(Path file, StrictTextReader text, ReadOptions o, List<Example> out) throws IOException {
        Columns columns = null;
        // No quote processing: quotes are text. Split into at most as many fields as there are columns, so
        // further tabs stay in the last column (SMS Spam: label<TAB>text, split at the first tab).
        int limit = o.header() || o.columnNames().isEmpty() ? -1 : o.columnNames().size();
        long rowNumber = 0;
        long line = 0;
        for (String s = text.readLine(); s != null; s = text.readLine()) {
            line++;
            if (s.isEmpty()) {
                continue;
            }
            List<String> fields = List.of(s.split("\t", columns == null ? limit : columns.count()));
            if (columns == null) {
                columns = resolveColumns(file, o, fields, line);
                if (o.header()) {
                    continue;
                }
            }
            if (fields.size() != columns.count()) {
                throw ragged(file, line, fields.size(), columns, "fields are separated by tab characters");
            }
            out.add(toExample(file, o, columns, fields, line, rowNumber++));
        }
    }

    /** Maps the wanted columns to field indices from the header line, the given names, or positions. */
    private static Columns resolveColumns(Path file, ReadOptions o, List<String> firstRow, long line) {
        List<String> names;
        if (o.header()) {
            names = firstRow;
        } else if (!o.columnNames().isEmpty()) {
            names = o.columnNames();
        } else {
            names = new ArrayList<>();
            for (int i = 0; i < firstRow.size(); i++) {
                names.add(Integer.toString(i));
            }
        }
        String where = o.header() ? file + " (header, line " + line + ")" : file.toString();
        return new Columns(index(where, names, o.textColumn(), "text"), index(where, names, o.textPairColumn(), "text pair"),
                index(where, names, o.labelColumn(), "label"), index(where, names, o.idColumn(), "id"), names.size(),
                List.copyOf(names));
    }

    private static int index(String where, List<String> names, String column, String role) {
        if (column == null) {
            return -1;
        }
        int found = names.indexOf(column);
        if (found >= 0) {
            if (names.lastIndexOf(column) != found) {
                throw new DataException(where + ": the " + role + " column '" + column + "' appears more than once;"
                        + " rename one of them in the header");
            }
            return found;
        }
        throw new DataException(where + ": no " + role + " column '" + column + "'. The columns are: "
                + quoteAll(names) + "." + nearMatch(column, names) + " Set the " + role + " column to one of them (--"
                + role.replace(' ', '-') + "-column).");
    }

    private static DataException ragged(Path file, long line, int fields, Columns columns, String rule) {
        return new DataException(file + " line " + line + ": the row has " + fields + " field" + (fields == 1 ? "" : "s")
                + " but there are " + columns.count() + " columns (" + quoteAll(columns.names()) + "). Fix the row: "
                + rule + ".");
    }

    private static Example toExample(Path file, ReadOptions o, Columns c, List<String> fields, long line, long rowNumber) {
        String id = c.id() >= 0 ? fields.get(c.id()) : Long.toString(rowNumber);
        String pair = c.pair() >= 0 ? fields.get(c.pair()) : null;
        List<String> labels = c.label() >= 0 ? parseLabels(file, line, o, fields.get(c.label())) : List.of();
        return new Example(id, fields.get(c.text()), pair, labels, line);
    }

    // ---- JSON Lines: one object per line, the "columns" are its fields -------------------------------

    private static void readJsonLines(Path file, StrictTextReader text, ReadOptions o, List<Example> out) throws IOException {
        long rowNumber = 0;
        long line = 0;
        for (String s = text.readLine(); s != null; s = text.readLine()) {
            line++;
            if (s.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(s);
            } catch (JsonProcessingException e) {
                throw new DataException(file + " line " + line + ": not valid JSON (" + e.getOriginalMessage()
                        + "). Each line of a JSON Lines file must be one complete JSON object.", e);
            }
            if (node == null || !node.isObject()) {
                throw new DataException(file + " line " + line + ": expected a JSON object ({\"" + o.textColumn()
                        + "\": ...}), found " + (node == null ? "nothing" : node.getNodeType().name().toLowerCase(Locale.ROOT))
                        + (s.trim().startsWith("[") && line == 1 ? ". This looks like one JSON array; write one object per"
                        + " line (JSON Lines) instead" : "") + ".");
            }
            String id = o.idColumn() != null ? scalar(file, line, node, o.idColumn(), "id") : Long.toString(rowNumber);
            String body = scalar(file, line, node, o.textColumn(), "text");
            String pair = o.textPairColumn() != null ? scalar(file, line, node, o.textPairColumn(), "text pair") : null;
            List<String> labels = List.of();
            if (o.labelColumn() != null) {
                JsonNode l = field(file, line, node, o.labelColumn(), "label");
                if (l.isArray()) {
                    if (o.labelSeparator() == null) {
                        throw new DataException(file + " line " + line + ": the label field '" + o.labelColumn()
                                + "' is a list, which means several labels; for multi-label data set a label"
                                + " separator (--label-separator), or give one label per example.");
                    }
                    List<String> list = new ArrayList<>();
                    for (JsonNode item : l) {
                        list.addAll(parseLabels(file, line, o, scalarText(file, line, item, o.labelColumn(), "label")));
                    }
                    labels = distinct(list);
                } else {
                    labels = parseLabels(file, line, o, l.isNull() ? "" : scalarText(file, line, l, o.labelColumn(), "label"));
                }
            }
            out.add(new Example(id, body, pair, labels, line));
            rowNumber++;
        }
    }

    private static JsonNode field(Path file, long line, JsonNode object, String name, String role) {
        JsonNode v = object.get(name);
        if (v == null) {
            List<String> names = new ArrayList<>();
            object.fieldNames().forEachRemaining(names::add);
            throw new DataException(file + " line " + line + ": no " + role + " field '" + name + "'. The fields on this"
                    + " line are: " + quoteAll(names) + "." + nearMatch(name, names) + " Set the " + role
                    + " column to one of them (--" + role.replace(' ', '-') + "-column).");
        }
        return v;
    }

    private static String scalar(Path file, long line, JsonNode object, String name, String role) {
        JsonNode v = field(file, line, object, name, role);
        if (v.isNull()) {
            throw new DataException(file + " line " + line + ": the " + role + " field '" + name + "' is null; give it"
                    + " a value or remove the line");
        }
        return scalarText(file, line, v, name, role);
    }

    private static String scalarText(Path file, long line, JsonNode v, String name, String role) {
        if (!v.isValueNode()) {
            throw new DataException(file + " line " + line + ": the " + role + " field '" + name + "' is a JSON "
                    + v.getNodeType().name().toLowerCase(Locale.ROOT) + "; expected a string or a number");
        }
        return v.asText();
    }

    // ---- labels ---------------------------------------------------------------------------------------

    /**
     * Trims the label; for multi-label data splits it at the separator and drops empty parts and repeats
     * (so "a, b, a" and "a,b" are the same set).
     */
    private static List<String> parseLabels(Path file, long line, ReadOptions o, String raw) {
        List<String> labels = new ArrayList<>();
        if (o.labelSeparator() == null) {
            String label = raw.trim();
            if (label.isEmpty()) {
                throw new DataException(file + " line " + line + ": the label column '" + o.labelColumn() + "' is empty."
                        + " Fill in the label or remove the row; to read data without labels, leave the label column"
                        + " unset.");
            }
            labels.add(label);
        } else {
            for (String part : raw.split(Pattern.quote(o.labelSeparator()), -1)) {
                if (!part.isBlank()) {
                    labels.add(part.trim());
                }
            }
        }
        if (o.integerLabels()) {
            for (String label : labels) {
                if (!LabelSet.isInteger(label)) {
                    throw new DataException(file + " line " + line + ": the label column '" + o.labelColumn() + "' holds '"
                            + abbreviate(label) + "', which is not an integer, but integer labels were asked for. Check"
                            + " that the label column names the right column, or allow text labels.");
                }
            }
        }
        return distinct(labels);
    }

    private static List<String> distinct(List<String> labels) {
        return labels.size() <= 1 ? labels : List.copyOf(new LinkedHashSet<>(labels));
    }

    // ---- message helpers ----------------------------------------------------------------------------

    private static String quoteAll(List<String> names) {
        StringBuilder b = new StringBuilder();
        for (String n : names) {
            b.append(b.length() == 0 ? "" : ", ").append('\'').append(abbreviate(n)).append('\'');
        }
        return b.length() == 0 ? "(none)" : b.toString();
    }

    private static String nearMatch(String wanted, List<String> names) {
        Set<String> close = new LinkedHashSet<>();
        for (String n : names) {
            if (n.trim().equalsIgnoreCase(wanted.trim())) {
                close.add(n);
            }
        }
        return close.isEmpty() ? "" : " Did you mean " + quoteAll(List.copyOf(close)) + " (names are case- and"
                + " space-sensitive)?";
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage();
    }
}
