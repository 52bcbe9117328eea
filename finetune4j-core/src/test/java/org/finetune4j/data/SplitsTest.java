package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SplitsTest {

    /** 900 "a", 400 "b", 7 "c" (a rare class, as TREC's ABBR), in an interleaved file order. */
    private static Dataset skewed() {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 1307; i++) {
            String label = i < 7 ? "c" : i % 13 < 4 ? "b" : "a";
            examples.add(new Example(Integer.toString(i), "text " + i, null, List.of(label), i + 2));
        }
        return new Dataset("skewed.csv", examples, LabelMode.SINGLE);
    }

    private static List<String> ids(Dataset d) {
        return d.examples().stream().map(Example::id).toList();
    }

    @Test
    void splitsKeepClassProportionsAndCoverEveryExampleOnce() {
        Dataset data = skewed();
        Map<String, Integer> total = data.labelCounts();
        double[] ratios = {0.7, 0.15, 0.15};
        List<Dataset> parts = Splits.stratified(data, ratios, 42);
        assertEquals(3, parts.size());
        Set<String> seen = new HashSet<>();
        for (int s = 0; s < 3; s++) {
            Map<String, Integer> counts = parts.get(s).labelCounts();
            for (Map.Entry<String, Integer> c : total.entrySet()) {
                double expected = c.getValue() * ratios[s];
                int got = counts.getOrDefault(c.getKey(), 0);
                // Rounding keeps each class within two examples of n·ratio.
                assertTrue(Math.abs(got - expected) < 2, c.getKey() + " in split " + s + ": " + got + " vs " + expected);
                assertTrue(got >= 1, "every split has every class with at least 3 examples");
            }
            for (Example e : parts.get(s).examples()) {
                assertTrue(seen.add(e.id()), "example " + e.id() + " in two splits");
            }
            // File order is kept within a split.
            List<Long> lines = parts.get(s).examples().stream().map(Example::line).toList();
            assertEquals(lines.stream().sorted().toList(), lines);
            assertEquals("skewed.csv", parts.get(s).source());
        }
        assertEquals(data.size(), seen.size());
        assertEquals(Map.of("a", 900, "b", 400, "c", 7), total);
        assertEquals(List.of(913, 197, 197), parts.stream().map(Dataset::size).toList());
        assertEquals(List.of(629, 136, 135), parts.stream().map(p -> p.labelCounts().get("a")).toList());
    }

    @Test
    void theSameSeedGivesTheSameSplitAndAnotherSeedAnother() {
        Dataset data = skewed();
        double[] ratios = {0.9, 0.1};
        List<Dataset> a = Splits.stratified(data, ratios, 7);
        List<Dataset> b = Splits.stratified(data, ratios, 7);
        List<Dataset> c = Splits.stratified(data, ratios, 8);
        assertEquals(ids(a.get(1)), ids(b.get(1)));
        assertNotEquals(ids(a.get(1)), ids(c.get(1)));
        assertEquals(ids(a.get(1)).size(), ids(c.get(1)).size());
    }

    @Test
    void splitSizesFollowScikitLearnAndClassesTheirShare() {
        // The disaster tweets at 0.9/0.1: 6,851 + 762 as train_test_split(test_size=0.1) gives.
        int[][] tweets = Splits.allocate(new int[] {4342, 3271}, new double[] {0.9, 0.1});
        assertArrayEquals(new int[] {3907, 435}, tweets[0]);
        assertArrayEquals(new int[] {2944, 327}, tweets[1]);
        // Seed 001's 70:15:15 on the deduplicated SMS: held-out splits rounded up, train the rest.
        int[][] sms = Splits.allocate(new int[] {4516, 655}, new double[] {0.7, 0.15, 0.15});
        assertEquals(List.of(3619, 776, 776), List.of(sms[0][0] + sms[1][0], sms[0][1] + sms[1][1], sms[0][2] + sms[1][2]));
        assertArrayEquals(new int[] {3161, 678, 677}, sms[0]);
    }

    @Test
    void aSmallClassReachesEverySplitWhenItCanWithoutChangingSplitSizes() {
        // 3 examples of "c" at 0.8/0.1/0.1: proportional shares would give the held-out splits none.
        int[][] counts = Splits.allocate(new int[] {97, 3}, new double[] {0.8, 0.1, 0.1});
        assertArrayEquals(new int[] {1, 1, 1}, counts[1]);
        assertEquals(List.of(80, 10, 10), List.of(counts[0][0] + counts[1][0], counts[0][1] + counts[1][1],
                counts[0][2] + counts[1][2]));
        // Two examples cannot reach three splits: they stay where the shares put them.
        int[][] two = Splits.allocate(new int[] {98, 2}, new double[] {0.8, 0.1, 0.1});
        assertEquals(2, Arrays.stream(two[1]).sum());
    }

    @Test
    void multiLabelDataIsStratifiedOnTheLabelSet() {
        List<Example> examples = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            List<String> labels = i % 4 == 0 ? List.of("x", "y") : i % 4 == 1 ? List.of("y", "x") : List.of("x");
            examples.add(new Example(Integer.toString(i), "t" + i, null, labels, i + 1));
        }
        List<Dataset> parts = Splits.stratified(new Dataset("m", examples, LabelMode.MULTI), new double[] {0.5, 0.5}, 1);
        // {x,y} (20 examples, in either order) and {x} (20) are halved exactly.
        assertEquals(Map.of("x", 20, "y", 10), parts.get(0).labelCounts());
        assertEquals(Map.of("x", 20, "y", 10), parts.get(1).labelCounts());
    }

    @Test
    void ratiosAreCheckedAndParsed() {
        DataException sum = assertThrows(DataException.class, () -> Splits.stratified(skewed(), new double[] {0.7, 0.2}, 1));
        assertTrue(sum.getMessage().contains("sum to 0.8"), sum.getMessage());
        assertThrows(DataException.class, () -> Splits.stratified(skewed(), new double[] {1.1, -0.1}, 1));
        assertThrows(DataException.class, () -> Splits.stratified(skewed(), new double[0], 1));
        assertArrayEquals(new double[] {0.7, 0.15, 0.15}, Splits.parseRatios("0.7/0.15/0.15"), 1e-12);
        assertArrayEquals(new double[] {0.9, 0.1}, Splits.parseRatios("90:10"), 1e-12);
        assertArrayEquals(new double[] {0.8, 0.2}, Splits.parseRatios("0.8, 0.2"), 1e-12);
        DataException nan = assertThrows(DataException.class, () -> Splits.parseRatios("0.7/x/0.15"));
        assertTrue(nan.getMessage().contains("'x' is not a number"), nan.getMessage());
    }
}
