package org.finetune4j.api;

import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.finetune4j.io.AtomicFiles;

/**
 * Writes predictions as CSV, atomically (a reader never sees half a file), and never over an existing
 * file unless asked.
 */
public final class PredictionFiles {
    /** Between the labels of a multi-label prediction in the label column. */
    public static final String LABEL_SEPARATOR = "|";
    /** Prefix of the probability columns: {@code prob_<label>}. */
    public static final String PROBABILITY_PREFIX = "prob_";

    private PredictionFiles() {
    }

    /** Fails before any work is done when {@code file} exists and may not be replaced. */
    public static void checkWritable(Path file, boolean overwrite) {
        if (Files.isDirectory(file)) {
            throw new IllegalArgumentException(file + " is a directory; give the path of the CSV file to write");
        }
        if (!overwrite && Files.exists(file)) {
            throw new IllegalArgumentException(file + " already exists; choose another output file, or pass --overwrite to"
                    + " replace it");
        }
    }

    /**
     * One row per prediction: {@code id,label,score}, and with {@code probabilities} one {@code prob_<label>}
     * column per class in label-id order. The score is the probability of the predicted label (of the
     * first one, for multi-label, whose labels are joined with {@value #LABEL_SEPARATOR}).
     */
    public static void writeCsv(Path file, List<String> ids, List<Prediction> predictions, List<String> labels,
            boolean probabilities, boolean overwrite) {
        checkRows(ids, predictions);
        checkWritable(file, overwrite);
        List<String> header = new ArrayList<>(List.of("id", "label", "score"));
        if (probabilities) {
            labels.forEach(l -> header.add(PROBABILITY_PREFIX + l));
        }
        AtomicFiles.write(file, out -> {
            OutputStreamWriter w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(header.toArray(String[]::new)).build())) {
                for (int i = 0; i < ids.size(); i++) {
                    Prediction pr = predictions.get(i);
                    List<Object> row = new ArrayList<>(header.size());
                    row.add(ids.get(i));
                    row.add(String.join(LABEL_SEPARATOR, pr.labels()));
                    row.add(number(pr.score()));
                    if (probabilities) {
                        for (String l : labels) {
                            row.add(number(pr.scores().get(l)));
                        }
                    }
                    p.printRecord(row);
                }
            }
        });
    }

    /**
     * A Kaggle-style submission: a header with exactly {@code idColumn} and {@code labelColumn}, then one
     * row per prediction with the id and the predicted label.
     */
    public static void writeSubmission(Path file, List<String> ids, List<Prediction> predictions, String idColumn,
            String labelColumn, boolean overwrite) {
        checkRows(ids, predictions);
        if (idColumn.isBlank() || labelColumn.isBlank() || idColumn.equals(labelColumn)) {
            throw new IllegalArgumentException("a submission needs two different, non-empty column names (e.g. id,target),"
                    + " got '" + idColumn + "' and '" + labelColumn + "'");
        }
        checkWritable(file, overwrite);
        AtomicFiles.write(file, out -> {
            OutputStreamWriter w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            try (CSVPrinter p = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(idColumn, labelColumn).build())) {
                for (int i = 0; i < ids.size(); i++) {
                    p.printRecord(ids.get(i), String.join(LABEL_SEPARATOR, predictions.get(i).labels()));
                }
            }
        });
    }

    private static void checkRows(List<String> ids, List<Prediction> predictions) {
        if (ids.size() != predictions.size()) {
            throw new IllegalArgumentException(ids.size() + " ids but " + predictions.size() + " predictions");
        }
    }

    /** The probability as the float the model computed, in its shortest form (0.9, not 0.8999999761581421). */
    private static String number(double v) {
        return Float.toString((float) v);
    }
}
