package org.finetune4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
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
     * allow) the class proportions of the whole, as scikit-learn's {@code train_test_split(stratify=...)}.
     *
     * <p>How: examples are grouped into strata by class (multi-label: by their exact label set; unlabelled:
     * one stratum). {@link #allocate} decides how many of each stratum go to each split. Each stratum is
     * shuffled with one {@code new Random(seed)}, strata in order of first appearance, and cut into those
     * counts, so the result is a pure function of (data, ratios, seed). Within each split examples keep
     * their file order.
     *
     * @return one dataset per ratio, with the same source and label mode
     */
    public static List<Dataset> stratified(Dataset data, double[] ratios, long seed) {
        checkRatios(ratios);
        Map<String, List<Integer>> strata = new LinkedHashMap<>();
        for (int i = 0; i < data.size(); i++) {
            strata.computeIfAbsent(Deduplicator.labelKey(data.get(i)), k -> new ArrayList<>()).add(i);
        }
        int[] stratumSizes = strata.values().stream().mapToInt(List::size).toArray();
        int[][] counts = allocate(stratumSizes, ratios);
        int k = ratios.length;
        int[] splitOf = new int[data.size()];
        Random random = new Random(seed);
        int c = 0;
        for (List<Integer> members : strata.values()) {
            Collections.shuffle(members, random);
            int at = 0;
            for (int s = 0; s < k; s++) {
                for (int j = 0; j < counts[c][s]; j++) {
                    splitOf[members.get(at++)] = s;
                }
            }
            c++;
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

    /**
     * How many examples of each class go to each split ({@code [class][split]}).
     * <ol>
     *   <li>Split sizes: every split after the first gets ⌈N·ratio⌉ and the first (train) the rest, as
     *       scikit-learn and 🤗 datasets size a test split (7,613 tweets at 0.9/0.1: 6,851 + 762).
     *   <li>Split by split, as scikit-learn's {@code _approximate_mode}: of the examples not yet placed,
     *       each class gets its proportional share of the split's size, rounded down, and the examples
     *       left over go to the classes with the largest remainders (ties: the earlier class). The last
     *       split takes what remains.
     *   <li>A class with at least one example per split that still misses a split gets one, moved from
     *       the split holding most of it; to keep the split sizes, an example of the class most above its
     *       share in the receiving split moves back (TREC's 86 ABBR questions reach every split).
     * </ol>
     */
    static int[][] allocate(int[] classSizes, double[] ratios) {
        int k = ratios.length;
        int classes = classSizes.length;
        int n = Arrays.stream(classSizes).sum();
        int[] splitSizes = new int[k];
        splitSizes[0] = n;
        for (int s = 1; s < k; s++) {
            splitSizes[s] = Math.min(splitSizes[0], (int) Math.ceil(n * ratios[s] - 1e-9));
            splitSizes[0] -= splitSizes[s];
        }
        int[][] counts = new int[classes][k];
        int[] remaining = classSizes.clone();
        for (int s = 0; s < k; s++) {
            int[] share = s == k - 1 ? remaining.clone() : approximateMode(remaining, splitSizes[s]);
            for (int c = 0; c < classes; c++) {
                counts[c][s] = share[c];
                remaining[c] -= share[c];
            }
        }
        for (int c = 0; c < classes; c++) {
            if (classSizes[c] < k) {
                continue;
            }
            for (int s = 0; s < k; s++) {
                if (counts[c][s] > 0) {
                    continue;
                }
                int donor = 0;
                for (int t = 1; t < k; t++) {
                    donor = counts[c][t] > counts[c][donor] ? t : donor;
                }
                counts[c][donor]--;
                counts[c][s]++;
                int back = -1;
                double most = Double.NEGATIVE_INFINITY;
                for (int o = 0; o < classes; o++) {
                    double above = counts[o][s] - (double) classSizes[o] * splitSizes[s] / n;
                    if (o != c && counts[o][s] > (classSizes[o] >= k ? 1 : 0) && above > most) {
                        back = o;
                        most = above;
                    }
                }
                if (back >= 0) {
                    counts[back][s]--;
                    counts[back][donor]++;
                }
            }
        }
        return counts;
    }

    /** {@code draws} spread over classes in proportion to {@code sizes}: floors, then largest remainders. */
    private static int[] approximateMode(int[] sizes, int draws) {
        long total = Arrays.stream(sizes).asLongStream().sum();
        int[] out = new int[sizes.length];
        double[] remainders = new double[sizes.length];
        int given = 0;
        for (int c = 0; c < sizes.length; c++) {
            double exact = total == 0 ? 0 : (double) sizes[c] * draws / total;
            out[c] = (int) Math.floor(exact + 1e-9);
            remainders[c] = exact - out[c];
            given += out[c];
        }
        while (given < draws) {
            int best = -1;
            for (int c = 0; c < sizes.length; c++) {
                if (out[c] < sizes[c] && (best < 0 || remainders[c] > remainders[best] + 1e-12)) {
                    best = c;
                }
            }
            out[best]++;
            remainders[best] = -1;
            given++;
        }
        return out;
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
