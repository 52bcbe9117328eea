package org.finetune4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
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
                // Largest-remainder rounding is within one example of n·ratio, except where a split was
                // topped up to hold at least one example of every class.
                assertTrue(Math.abs(got - expected) < 1 + 1e-9 || got == 1, c.getKey() + " in split " + s + ": " + got
                        + " vs " + expected);
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
        assertEquals(List.of(630, 135, 135), List.of(parts.get(0).labelCounts().get("a"), parts.get(1).labelCounts().get("a"),
                parts.get(2).labelCounts().get("a")));
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
    void allocationUsesLargestRemaindersAndGivesEverySplitOneWhenPossible() {
        assertArrayEquals(new int[] {3040, 651, 651}, Splits.allocate(4342, new double[] {0.7, 0.15, 0.15}));
        assertArrayEquals(new int[] {2290, 491, 490}, Splits.allocate(3271, new double[] {0.7, 0.15, 0.15}));
        assertArrayEquals(new int[] {1, 1, 1}, Splits.allocate(3, new double[] {0.7, 0.15, 0.15}));
        assertArrayEquals(new int[] {2, 0, 0}, Splits.allocate(2, new double[] {0.7, 0.15, 0.15}));
        assertArrayEquals(new int[] {4, 1}, Splits.allocate(5, new double[] {0.9, 0.1}));
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
