package org.finetune4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Batch planning: which examples go into which batch, in which order, for one epoch. Pure Java on
 * example lengths; no arrays are built here ({@link BatchBuilder} does that per batch).
 *
 * <p>A plan is a pure function of (lengths, batch size, order, seed, epoch), so a run resumed in the
 * middle of an epoch rebuilds the same plan and skips the batches it has done:
 * {@code plan(...).subList(k, plan.size())}.
 */
public final class Batches {
    /** Examples per length-sorted group, in batches: transformers' {@code LengthGroupedSampler} uses 50. */
    public static final int MEGA_BATCH_MULTIPLIER = 50;

    /** How batches are formed. */
    public enum Order {
        /** File order, for evaluation and prediction. */
        SEQUENTIAL,
        /** A new random permutation every epoch. */
        SHUFFLED,
        /** Random, but each batch holds examples of similar length, so little compute goes to padding. */
        LENGTH_GROUPED;

        public static Order parse(String s) {
            for (Order o : values()) {
                if (o.name().replace('_', '-').equalsIgnoreCase(s.replace('_', '-'))) {
                    return o;
                }
            }
            throw new DataException("unknown batch order \"" + s + "\"; choose sequential, shuffled or length-grouped");
        }
    }

    /**
     * Real and padded token counts of a plan: padding to the longest in each batch costs
     * {@code paddedTokens - realTokens} positions of compute.
     */
    public record Padding(long realTokens, long paddedTokens) {
        /** realTokens / paddedTokens: 1 means no padding at all. */
        public double efficiency() {
            return paddedTokens == 0 ? 1 : (double) realTokens / paddedTokens;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d real tokens in %d padded positions (%.1f %% padding)", realTokens,
                    paddedTokens, 100 * (1 - efficiency()));
        }
    }

    private Batches() {
    }

    /**
     * The batches of one epoch, each an array of example indices; every index appears exactly once. Only
     * the last batch may be smaller than {@code batchSize} (with length grouping, the smaller one sits
     * somewhere in the epoch).
     *
     * <p>{@code LENGTH_GROUPED}, after transformers' {@code get_length_grouped_indices}: shuffle all indices;
     * cut them into mega-batches of {@value #MEGA_BATCH_MULTIPLIER} × batchSize; sort each mega-batch by
     * length, longest first; cut it into batches. Then, unlike transformers (which keeps each mega-batch's
     * batches in descending order), shuffle the order of all batches, so that lengths do not cycle from
     * long to short within an epoch; and, as transformers does, move the batch with the longest example to
     * the front, so that running out of memory happens at the first step rather than hours in.
     *
     * @param epoch 0-based; with {@code seed} it determines the permutation (ignored for SEQUENTIAL)
     */
    public static List<int[]> plan(int[] lengths, int batchSize, Order order, long seed, int epoch) {
        if (batchSize <= 0) {
            throw new DataException("batch size must be positive, got " + batchSize);
        }
        int n = lengths.length;
        Integer[] indices = new Integer[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
        }
        if (order == Order.SEQUENTIAL) {
            return cut(indices, batchSize);
        }
        Random random = new Random(epochSeed(seed, epoch));
        Collections.shuffle(Arrays.asList(indices), random);
        if (order == Order.SHUFFLED) {
            return cut(indices, batchSize);
        }
        int mega = MEGA_BATCH_MULTIPLIER * batchSize;
        for (int start = 0; start < n; start += mega) {
            // Stable sort: equal lengths keep their shuffled order.
            Arrays.sort(indices, start, Math.min(n, start + mega), (a, b) -> Integer.compare(lengths[b], lengths[a]));
        }
        List<int[]> batches = cut(indices, batchSize);
        Collections.shuffle(batches, random);
        int longest = 0;
        for (int b = 1; b < batches.size(); b++) {
            if (lengths[batches.get(b)[0]] > lengths[batches.get(longest)[0]]) {
                longest = b;
            }
        }
        if (!batches.isEmpty()) {
            Collections.swap(batches, 0, longest);
        }
        return batches;
    }

    /** Real and padded token counts when each batch of {@code plan} is padded to its longest example. */
    public static Padding padding(int[] lengths, List<int[]> plan) {
        long real = 0;
        long padded = 0;
        for (int[] batch : plan) {
            int max = 0;
            for (int i : batch) {
                real += lengths[i];
                max = Math.max(max, lengths[i]);
            }
            padded += (long) max * batch.length;
        }
        return new Padding(real, padded);
    }

    /**
     * One seed per (seed, epoch): a SplitMix64 step over both, so neighbouring seeds and epochs give
     * unrelated permutations.
     */
    static long epochSeed(long seed, int epoch) {
        long z = seed + 0x9E3779B97F4A7C15L * (epoch + 1L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static List<int[]> cut(Integer[] indices, int batchSize) {
        List<int[]> batches = new ArrayList<>((indices.length + batchSize - 1) / batchSize);
        for (int start = 0; start < indices.length; start += batchSize) {
            int end = Math.min(indices.length, start + batchSize);
            int[] batch = new int[end - start];
            for (int i = start; i < end; i++) {
                batch[i - start] = indices[i];
            }
            batches.add(batch);
        }
        return batches;
    }
}
