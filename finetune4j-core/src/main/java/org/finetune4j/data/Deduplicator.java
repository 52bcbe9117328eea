package org.finetune4j.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Drops empty texts and exact duplicates, saying how many, as seed 001 does with
 * {@code drop_duplicates()} / {@code dropna()} before splitting (so no test text is also a training text).
 * Run it after cleaning: cleaning can make texts equal.
 */
public final class Deduplicator {

    private Deduplicator() {
    }

    /**
     * The result of {@link #dedupe}.
     *
     * @param dataset the examples kept, in their original order
     * @param duplicatesDropped extra copies dropped (the first copy of each text is kept)
     * @param conflicts texts that occur with different labels (label noise)
     * @param conflictsDropped texts dropped because they had conflicting labels (0 unless asked); this is
     *     the first copy of each, the other copies count in {@code duplicatesDropped}
     */
    public record Result(Dataset dataset, int duplicatesDropped, List<Conflict> conflicts, int conflictsDropped) {
        public Result {
            conflicts = List.copyOf(conflicts);
        }

        /** One line for logs: "dropped 403 duplicate texts; 0 texts with conflicting labels". */
        public String summary() {
            return "dropped " + duplicatesDropped + " duplicate text" + (duplicatesDropped == 1 ? "" : "s") + "; "
                    + conflicts.size() + " text" + (conflicts.size() == 1 ? "" : "s") + " with conflicting labels"
                    + (conflictsDropped > 0 ? " (" + conflictsDropped + " dropped)" : conflicts.isEmpty() ? "" : " (kept with the first label seen)");
        }
    }

    /**
     * A text (and pair) that occurs with more than one label (set).
     *
     * @param labelCounts how many times each label (multi-label: each sorted, comma-joined label set) occurs
     * @param lines the lines of the file where it occurs
     */
    public record Conflict(String text, String textPair, Map<String, Integer> labelCounts, List<Long> lines) {
        public Conflict {
            labelCounts = Map.copyOf(labelCounts);
            lines = List.copyOf(lines);
        }
    }

    /** The result of {@link #dropEmpty}: the examples kept and how many were dropped. */
    public record Filtered(Dataset dataset, int dropped) {
    }

    /**
     * Drops examples whose text (or pair, when there is one) is empty or only whitespace; cleaning can
     * empty a text (a tweet that was only a link).
     */
    public static Filtered dropEmpty(Dataset data) {
        List<Example> kept = new ArrayList<>(data.size());
        for (Example e : data.examples()) {
            if (!e.text().isBlank() && (e.textPair() == null || !e.textPair().isBlank())) {
                kept.add(e);
            }
        }
        return new Filtered(data.withExamples(kept), data.size() - kept.size());
    }

    /**
     * Keeps the first example of each exact (text, pair); the others are dropped whatever their label.
     * Texts seen with different labels are reported as conflicts; with {@code dropConflicts} every example
     * of such a text is dropped, since no label for it can be trusted.
     */
    public static Result dedupe(Dataset data, boolean dropConflicts) {
        Map<List<String>, List<Example>> groups = new LinkedHashMap<>();
        for (Example e : data.examples()) {
            groups.computeIfAbsent(key(e), k -> new ArrayList<>(1)).add(e);
        }
        Set<Example> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Conflict> conflicts = new ArrayList<>();
        int conflictsDropped = 0;
        for (List<Example> group : groups.values()) {
            Map<String, Integer> labelCounts = new LinkedHashMap<>();
            for (Example e : group) {
                labelCounts.merge(labelKey(e), 1, Integer::sum);
            }
            boolean conflicting = labelCounts.size() > 1;
            if (conflicting) {
                List<Long> lines = new ArrayList<>();
                group.forEach(e -> lines.add(e.line()));
                conflicts.add(new Conflict(group.get(0).text(), group.get(0).textPair(), labelCounts, lines));
            }
            if (conflicting && dropConflicts) {
                conflictsDropped += 1;
            } else {
                keep.add(group.get(0));
            }
        }
        List<Example> kept = new ArrayList<>(groups.size());
        for (Example e : data.examples()) {
            if (keep.contains(e)) {
                kept.add(e);
            }
        }
        int duplicates = data.size() - groups.size();
        return new Result(data.withExamples(kept), duplicates, conflicts, conflictsDropped);
    }

    private static List<String> key(Example e) {
        return e.textPair() == null ? List.of(e.text()) : List.of(e.text(), e.textPair());
    }

    /** The label, or for multi-label examples the sorted label set, as one string. */
    static String labelKey(Example e) {
        return e.labels().size() == 1 ? e.labels().get(0) : String.join(",", new TreeSet<>(e.labels()));
    }
}
