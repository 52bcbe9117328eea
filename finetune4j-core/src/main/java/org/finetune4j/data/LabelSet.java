package org.finetune4j.data;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * The classes a model predicts: {@code id2label} as config.json stores it. Built from the training data
 * only; a label in other data that training never saw is an error, since the model has no output for it.
 *
 * <p>Order: when every label is an integer, numeric order (so "0", "1" get ids 0, 1 and "1".."4" get
 * 0..3, as the datasets' own numbering suggests); otherwise alphabetical order, as scikit-learn's
 * LabelEncoder. Either way the ids do not depend on row order.
 *
 * @param names the label names, index = class id
 */
public record LabelSet(List<String> names) {
    private static final Pattern INTEGER = Pattern.compile("-?\\d+");

    public LabelSet {
        names = List.copyOf(names);
        if (names.isEmpty()) {
            throw new DataException("a label set needs at least one label");
        }
        if (new TreeSet<>(names).size() != names.size()) {
            throw new DataException("the label names repeat: " + names);
        }
    }

    /**
     * The labels of training data. Single-label training data must have at least two classes: with one,
     * nothing can be learned and the usual cause is a wrong label column or a filter that removed a class.
     */
    public static LabelSet fromTraining(Dataset train) {
        if (!train.isLabelled()) {
            throw new DataException(train.source() + ": the training data has no labels; set the label column (--label-column)");
        }
        Map<String, Integer> counts = train.labelCounts();
        if (counts.isEmpty()) {
            throw new DataException(train.source() + ": no example has a label; check the label column and separator");
        }
        if (train.labelMode() == LabelMode.SINGLE && counts.size() < 2) {
            throw new DataException(train.source() + ": the training data has a single class ('" + counts.keySet().iterator().next()
                    + "', " + train.size() + " examples). A classifier needs at least two; check that the label column"
                    + " is the right one, and that the file (or split) holds every class.");
        }
        List<String> names = new ArrayList<>(counts.keySet());
        boolean numeric = names.stream().allMatch(LabelSet::isInteger);
        names.sort(numeric ? Comparator.<String, BigInteger>comparing(BigInteger::new).thenComparing(Comparator.naturalOrder())
                : Comparator.naturalOrder());
        return new LabelSet(names);
    }

    /** Whether a label is written as an integer ("0", "-1", "10"); such labels sort numerically. */
    static boolean isInteger(String label) {
        return INTEGER.matcher(label).matches();
    }

    public int size() {
        return names.size();
    }

    public String name(int id) {
        return names.get(id);
    }

    /** config.json's {@code id2label}. */
    public Map<Integer, String> id2label() {
        Map<Integer, String> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(i, names.get(i));
        }
        return m;
    }

    /** config.json's {@code label2id}. */
    public Map<String, Integer> label2id() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < names.size(); i++) {
            m.put(names.get(i), i);
        }
        return m;
    }

    /** The id of a label, or -1 when it is not one of these labels. */
    public int indexOf(String label) {
        return names.indexOf(label);
    }

    /** The id of a label; an error naming the label and the known ones when training never saw it. */
    public int idOf(String label) {
        int id = names.indexOf(label);
        if (id < 0) {
            throw unknown(label, "", "");
        }
        return id;
    }

    /**
     * The class id of every example of single-label data, checking all of them first so that one message
     * lists every unknown label with the first line it occurs on.
     */
    public int[] ids(Dataset data) {
        checkKnown(data);
        Map<String, Integer> lookup = new HashMap<>(label2id());
        int[] out = new int[data.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = lookup.get(data.get(i).label());
        }
        return out;
    }

    /** Every label of {@code data} must be one of these; otherwise one error lists the unknown ones. */
    public void checkKnown(Dataset data) {
        Map<String, Example> unknown = new LinkedHashMap<>();
        for (Example e : data.examples()) {
            for (String label : e.labels()) {
                if (indexOf(label) < 0) {
                    unknown.putIfAbsent(label, e);
                }
            }
        }
        if (unknown.isEmpty()) {
            return;
        }
        List<Map.Entry<String, Example>> all = new ArrayList<>(unknown.entrySet());
        StringBuilder others = new StringBuilder();
        for (Map.Entry<String, Example> u : all.subList(1, Math.min(all.size(), 11))) {
            others.append(others.length() == 0 ? " Also unknown: " : ", ").append('\'').append(u.getKey()).append("' (")
                    .append(data.where(u.getValue())).append(')');
        }
        if (all.size() > 11) {
            others.append(" and ").append(all.size() - 11).append(" more");
        }
        if (others.length() > 0) {
            others.append('.');
        }
        throw unknown(all.get(0).getKey(), " at " + data.where(all.get(0).getValue()), others.toString());
    }

    private DataException unknown(String label, String where, String others) {
        return new DataException("label '" + label + "'" + where + " was not in the training data; known labels: "
                + String.join(", ", names) + "." + others + " Check that both files use the same label column and"
                + " spelling, or add examples of the label to the training data.");
    }
}
