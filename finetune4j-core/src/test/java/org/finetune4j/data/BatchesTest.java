package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchesTest {

    /** Skewed lengths, like tweets with a long tail: mostly 10-40 tokens, one in ten up to 300. */
    private static int[] skewedLengths(int n) {
        SplittableRandom r = new SplittableRandom(3);
        int[] lengths = new int[n];
        for (int i = 0; i < n; i++) {
            lengths[i] = r.nextInt(10) == 0 ? 40 + r.nextInt(261) : 10 + r.nextInt(31);
        }
        return lengths;
    }

    private static void assertCoversEachIndexOnce(List<int[]> plan, int n, int batchSize) {
        int[] seen = new int[n];
        for (int b = 0; b < plan.size(); b++) {
            int[] batch = plan.get(b);
            assertTrue(batch.length >= 1 && batch.length <= batchSize);
            for (int i : batch) {
                seen[i]++;
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(1, seen[i], "index " + i);
        }
        assertEquals((n + batchSize - 1) / batchSize, plan.size());
        assertEquals(1, plan.stream().filter(b -> b.length < batchSize).count() + (n % batchSize == 0 ? 1 : 0));
    }

    @Test
    void everyOrderCoversEveryIndexExactlyOncePerEpoch() {
        int n = 2003;
        int[] lengths = skewedLengths(n);
        for (Batches.Order order : Batches.Order.values()) {
            for (int epoch = 0; epoch < 3; epoch++) {
                assertCoversEachIndexOnce(Batches.plan(lengths, 16, order, 42, epoch), n, 16);
            }
        }
        List<int[]> sequential = Batches.plan(lengths, 16, Batches.Order.SEQUENTIAL, 42, 0);
        assertArrayEquals(new int[] {16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31}, sequential.get(1));
    }

    @Test
    void aPlanIsAPureFunctionOfSeedAndEpochSoARunCanResume() {
        int[] lengths = skewedLengths(500);
        for (Batches.Order order : List.of(Batches.Order.SHUFFLED, Batches.Order.LENGTH_GROUPED)) {
            List<int[]> first = Batches.plan(lengths, 8, order, 42, 3);
            List<int[]> again = Batches.plan(lengths, 8, order, 42, 3);
            assertEquals(first.size(), again.size());
            for (int b = 0; b < first.size(); b++) {
                assertArrayEquals(first.get(b), again.get(b));
            }
            // A resumed run skips the first k batches of the same plan and sees exactly the rest.
            List<int[]> rest = again.subList(20, again.size());
            assertArrayEquals(first.get(20), rest.get(0));
            assertNotEquals(Arrays.toString(first.get(1)), Arrays.toString(Batches.plan(lengths, 8, order, 42, 4).get(1)));
            assertNotEquals(Arrays.toString(first.get(1)), Arrays.toString(Batches.plan(lengths, 8, order, 43, 3).get(1)));
        }
    }

    @Test
    void lengthGroupingCutsPaddingOnSkewedLengths() {
        int[] lengths = skewedLengths(6851); // the size of the notebook's disaster-tweets training split
        Batches.Padding sequential = Batches.padding(lengths, Batches.plan(lengths, 16, Batches.Order.SEQUENTIAL, 0, 0));
        Batches.Padding shuffled = Batches.padding(lengths, Batches.plan(lengths, 16, Batches.Order.SHUFFLED, 0, 0));
        Batches.Padding grouped = Batches.padding(lengths, Batches.plan(lengths, 16, Batches.Order.LENGTH_GROUPED, 0, 0));
        long real = Arrays.stream(lengths).asLongStream().sum();
        assertEquals(real, sequential.realTokens());
        assertEquals(real, grouped.realTokens());
        assertTrue(grouped.paddedTokens() < 0.5 * sequential.paddedTokens(), grouped + " vs " + sequential);
        assertTrue(grouped.paddedTokens() < 0.5 * shuffled.paddedTokens(), grouped + " vs " + shuffled);
        assertTrue(grouped.efficiency() > 0.85, grouped.toString());
    }

    @Test
    void lengthGroupedBatchesHoldSimilarLengthsAndTheLongestComesFirst() {
        int[] lengths = skewedLengths(3000);
        List<int[]> plan = Batches.plan(lengths, 16, Batches.Order.LENGTH_GROUPED, 7, 1);
        int longest = Arrays.stream(lengths).max().getAsInt();
        assertEquals(longest, Arrays.stream(plan.get(0)).map(i -> lengths[i]).max().getAsInt());
        // Batch order is shuffled: the batches' longest lengths are not sorted over the epoch.
        int[] maxima = plan.stream().mapToInt(b -> Arrays.stream(b).map(i -> lengths[i]).max().getAsInt()).toArray();
        int[] sorted = maxima.clone();
        Arrays.sort(sorted);
        assertNotEquals(Arrays.toString(sorted), Arrays.toString(maxima));
    }

    @Test
    void paddingCountsAndArguments() {
        int[] lengths = {3, 5, 2, 2};
        Batches.Padding p = Batches.padding(lengths, List.of(new int[] {0, 1}, new int[] {2, 3}));
        assertEquals(12, p.realTokens());
        assertEquals(14, p.paddedTokens());
        assertEquals("12 real tokens in 14 padded positions (14.3 % padding)", p.toString());
        assertThrows(DataException.class, () -> Batches.plan(lengths, 0, Batches.Order.SHUFFLED, 0, 0));
        assertEquals(Batches.Order.LENGTH_GROUPED, Batches.Order.parse("length-grouped"));
        assertThrows(DataException.class, () -> Batches.Order.parse("random"));
        assertEquals(List.of(), Batches.plan(new int[0], 4, Batches.Order.LENGTH_GROUPED, 0, 0));
    }
}
