package org.finetune4j.data;

import java.util.List;
import java.util.Objects;

/**
 * One text to classify, as read from a file.
 *
 * @param id the id column's value, or the 0-based data row number when the file has no id column
 * @param text the text
 * @param textPair the second text of a pair task (NLI, question + passage), or null
 * @param labels one label for single-label data, any number (possibly none) for multi-label data, and
 *     none for unlabelled (prediction) data; see {@link Dataset#labelMode()}
 * @param line the 1-based line of the file where this record starts, for error messages
 */
public record Example(String id, String text, String textPair, List<String> labels, long line) {

    public Example {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(text, "text");
        labels = List.copyOf(labels);
    }

    /** The only label of a single-label example. */
    public String label() {
        if (labels.size() != 1) {
            throw new IllegalStateException("example " + id + " has " + labels.size() + " labels, not one");
        }
        return labels.get(0);
    }

    public Example withText(String newText, String newPair) {
        return new Example(id, newText, newPair, labels, line);
    }
}
