package org.finetune4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded, stratified splits: train/validation/test from one file, as the notebooks do with
 * {@code train_test_split(..., stratify=labels)} (70:15:15 in seed 001, 90:10 in seed 000).
 */
public final class Splits {
    /** How far the ratios' sum may be from 1. */
    public static final double RATIO_TOLERANCE = 1e-6;

    private Splits() {
    }

    /**
     * Parses ratios written as "0.7/0.15/0.15", "0.9,0.1" or "70:15:15". Percentages (a sum of 100) are
     * divided by 100.
     */
    public static double[] parseRatios(String text) {
        String[] parts = text.trim().split("\\s*[/,:]\\s*");
        double[] ratios = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                ratios[i] = Double.parseDouble(parts[i]);
            } catch (NumberFormatException e) {
                throw new DataException("split ratios \"" + text + "\": '" + parts[i] + "' is not a number; write the"
                        + " ratios like 0.7/0.15/0.15 or 90/10");
            }
        }
        double sum = Arrays.stream(ratios).sum();
        if (Math.abs(sum - 100) <= 100 * RATIO_TOLERANCE) {
            for (int i = 0; i < ratios.length; i++) {
                ratios[i] /= 100;
            }
        }
        checkRatios(ratios);
        return ratios;
    }

    /**
     * Splits the examples in the given proportions so that every split has (as nearly as whole examples
     * allow) the class proportions of the whole.
     *
     * <p>How: examples are grouped by class (multi-label: by their exact label set; unlabelled: one
     * group). Each group is shuffled with {@code new Random(seed)}, drawn once per group in order of the
     * group's first appearance, so the result is a pure function of (data, ratios, seed). Each group of n
     * is cut into counts n·ratio rounded by largest remainder (ties to the earlier split), and when n is at
     * least the number of splits, a split left with none takes one from the split with the most, so every
     * split sees every class that can be spread. Within each split examples keep their file order.
     *
     * @return one dataset per ratio, with the same source and label mode
     */
    public static List<Dataset> stratified(Dataset data, double[] ratios, long seed) {
        checkRatios(ratios);
        Map<String, List<Integer>> strata = new LinkedHashMap<>();
        for (int i = 0; i < data.size(); i++) {
            strata.computeIfAbsent(Deduplicator.labelKey(data.get(i)), k -> new ArrayList<>()).add(i);
        }
        int k = ratios.length;
        int[] splitOf = new int[data.size()];
        Random random = new Random(seed);
        for (List<Integer> members : strata.values()) {
            java.util.Collections.shuffle(members, random);
            int[] counts = allocate(members.size(), ratios);
            int at = 0;
            for (int s = 0; s < k; s++) {
                for (int j = 0; j < counts[s]; j++) {
                    splitOf[members.get(at++)] = s;
                }
            }
        }
        List<List<Example>> parts = new ArrayList<>();
        for (int s = 0; s < k; s++) {
            parts.add(new ArrayList<>());
        }
        for (int i = 0; i < data.size(); i++) {
            parts.get(splitOf[i]).add(data.get(i));
        }
        List<Dataset> out = new ArrayList<>(k);
        for (List<Example> part : parts) {
            out.add(data.withExamples(part));
        }
        return out;
    }

    /** Counts per split for n examples: largest-remainder rounding, then at least one each when n allows. */
    static int[] allocate(int n, double[] ratios) {
        int k = ratios.length;
        int[] counts = new int[k];
        double[] remainders = new double[k];
        int given = 0;
        for (int s = 0; s < k; s++) {
            double exact = n * ratios[s];
            counts[s] = (int) Math.floor(exact);
            remainders[s] = exact - counts[s];
            given += counts[s];
        }
        while (given < n) { // at most k - 1 rounds
            int best = 0;
            for (int s = 1; s < k; s++) {
                if (remainders[s] > remainders[best] + 1e-12) {
                    best = s;
                }
            }
            counts[best]++;
            remainders[best] = -1;
            given++;
        }
        if (n >= k) {
            for (int s = 0; s < k; s++) {
                if (counts[s] == 0 && ratios[s] > 0) {
                    int largest = 0;
                    for (int t = 1; t < k; t++) {
                        if (counts[t] > counts[largest]) {
                            largest = t;
                        }
                    }
                    counts[largest]--;
                    counts[s]++;
                }
            }
        }
        return counts;
    }

    static void checkRatios(double[] ratios) {
        if (ratios.length == 0) {
            throw new DataException("no split ratios given; give e.g. 0.7/0.15/0.15 or 0.9/0.1");
        }
        double sum = 0;
        for (double r : ratios) {
            if (!(r > 0 && r <= 1)) {
                throw new DataException("split ratio " + r + " in " + Arrays.toString(ratios) + " must be above 0 and"
                        + " at most 1");
            }
            sum += r;
        }
        if (Math.abs(sum - 1) > RATIO_TOLERANCE) {
            throw new DataException("split ratios " + Arrays.toString(ratios) + " sum to " + sum + ", not 1; e.g."
                    + " 0.7/0.15/0.15 or 0.9/0.1");
        }
    }
}
