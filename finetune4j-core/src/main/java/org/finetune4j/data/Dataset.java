package org.finetune4j.data;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Examples and where they came from.
 *
 * @param source the file the examples came from (kept by cleaning, filtering and splitting, so that
 *     {@link #where} still names the file and line of an example)
 * @param examples the examples, in file order unless a step says otherwise
 * @param labelMode whether the examples carry one label, a set of labels, or none
 */
public record Dataset(String source, List<Example> examples, LabelMode labelMode) {

    public Dataset {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(labelMode, "labelMode");
        examples = List.copyOf(examples);
    }

    public int size() {
        return examples.size();
    }

    public Example get(int i) {
        return examples.get(i);
    }

    public boolean isLabelled() {
        return labelMode != LabelMode.UNLABELLED;
    }

    /** Whether any example has a second text. */
    public boolean hasPairs() {
        for (Example e : examples) {
            if (e.textPair() != null) {
                return true;
            }
        }
        return false;
    }

    public List<String> texts() {
        List<String> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            out.add(e.text());
        }
        return out;
    }

    /** The pair texts (with null entries for examples without one), or null when no example has a pair. */
    public List<String> pairs() {
        if (!hasPairs()) {
            return null;
        }
        List<String> out = new ArrayList<>(examples.size());
        for (Example e : examples) {
            out.add(e.textPair());
        }
        return out;
    }

    /**
     * How many examples carry each label, in order of first appearance. For multi-label data an example
     * counts once for each of its labels.
     */
    public Map<String, Integer> labelCounts() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Example e : examples) {
            for (String label : e.labels()) {
                counts.merge(label, 1, Integer::sum);
            }
        }
        return counts;
    }

    /** The same source and label mode with other examples, e.g. after cleaning or filtering. */
    public Dataset withExamples(List<Example> newExamples) {
        return new Dataset(source, newExamples, labelMode);
    }

    /** Where an example came from, for messages: "train.csv line 17". */
    public String where(Example e) {
        return source + " line " + e.line();
    }

    @Override
    public String toString() {
        return source + " (" + examples.size() + " examples, " + labelMode.name().toLowerCase(Locale.ROOT) + ")";
    }
}
