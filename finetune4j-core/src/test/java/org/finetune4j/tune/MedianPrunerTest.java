package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Three complete trials (minimise) whose values at evaluations 1..4 are A 1.0 0.8 0.6 0.5, B 1.2 1.0 0.9 0.7,
 * C 0.9 0.7 0.5 0.4: medians 1.0, 0.8, 0.6, 0.5.
 */
class MedianPrunerTest {
    private static final List<Trial> COMPLETE = List.of(
            complete(0, 1.0, 0.8, 0.6, 0.5), complete(1, 1.2, 1.0, 0.9, 0.7), complete(2, 0.9, 0.7, 0.5, 0.4));

    private static Trial complete(int number, double... values) {
        return new Trial(number, Map.of(), TrialState.COMPLETE, values[values.length - 1], steps(values));
    }

    private static TreeMap<Integer, Double> steps(double... values) {
        TreeMap<Integer, Double> m = new TreeMap<>();
        for (int i = 0; i < values.length; i++) {
            m.put(i + 1, values[i]);
        }
        return m;
    }

    private static boolean prune(MedianPruner pruner, List<Trial> others, Direction direction, double... values) {
        Trial running = new Trial(9, Map.of(), TrialState.RUNNING, null, steps(values));
        return pruner.shouldPrune(running, values.length, others, direction);
    }

    @Test
    void prunesWhenTheBestValueSoFarIsWorseThanTheMedianAtThisEvaluation() {
        MedianPruner pruner = new MedianPruner(2, 1, 1);                       // first evaluation is warm-up
        assertFalse(prune(pruner, COMPLETE, Direction.MINIMIZE, 2.0));           // warm-up: 2.0 > 1.0 kept
        assertTrue(prune(pruner, COMPLETE, Direction.MINIMIZE, 2.0, 0.85));      // 0.85 > median 0.8
        assertFalse(prune(pruner, COMPLETE, Direction.MINIMIZE, 5.0, 0.75));     // 0.75 < 0.8
        assertTrue(prune(pruner, COMPLETE, Direction.MINIMIZE, 5.0, 0.75, 0.7)); // best 0.7 > median 0.6
        // Best so far, not the latest value: 0.65 at evaluation 3 is worse than 0.6, but 0.5 was reached.
        assertFalse(prune(pruner, COMPLETE, Direction.MINIMIZE, 5.0, 0.5, 0.65));
        // Evaluation 5: no complete trial reported one, nothing to compare with.
        assertFalse(prune(pruner, COMPLETE, Direction.MINIMIZE, 5.0, 0.9, 0.9, 0.9, 0.9));
        // NaNs are skipped when taking the best; a trial with nothing but NaNs is pruned.
        assertTrue(prune(pruner, COMPLETE, Direction.MINIMIZE, 5.0, 0.75, Double.NaN, Double.NaN)); // 0.75 > 0.5
        assertTrue(prune(pruner, COMPLETE, Direction.MINIMIZE, Double.NaN, Double.NaN));
    }

    @Test
    void waitsForStartupTrialsAndChecksOncePerInterval() {
        assertFalse(prune(new MedianPruner(4, 0, 1), COMPLETE, Direction.MINIMIZE, 9.0)); // 3 complete < 4
        assertTrue(prune(new MedianPruner(3, 0, 1), COMPLETE, Direction.MINIMIZE, 9.0));
        // Pruned (and running) trials are no reference: only complete ones are.
        Trial pruned = new Trial(5, Map.of(), TrialState.PRUNED, null, steps(0.1));
        assertFalse(prune(new MedianPruner(1, 0, 1), List.of(pruned), Direction.MINIMIZE, 9.0));
        // Interval 2 (0-based checks at 0, 2, 4): evaluations 1, 3, 5 are checked, 2 and 4 are not.
        MedianPruner everyOther = new MedianPruner(1, 0, 2);
        assertTrue(prune(everyOther, COMPLETE, Direction.MINIMIZE, 9.0));
        assertFalse(prune(everyOther, COMPLETE, Direction.MINIMIZE, 0.9, 9.0));
        assertTrue(prune(everyOther, COMPLETE, Direction.MINIMIZE, 0.9, 9.0, 9.0));
    }

    @Test
    void maximisingPrunesBelowTheMedian() {
        List<Trial> negated = COMPLETE.stream().map(t -> new Trial(t.number(), Map.of(), TrialState.COMPLETE,
                -t.value(), steps(t.intermediate().values().stream().mapToDouble(v -> -v).toArray()))).toList();
        MedianPruner pruner = new MedianPruner(2, 1, 1);
        assertTrue(prune(pruner, negated, Direction.MAXIMIZE, -2.0, -0.85));
        assertFalse(prune(pruner, negated, Direction.MAXIMIZE, -5.0, -0.75));
        assertTrue(prune(pruner, negated, Direction.MAXIMIZE, -5.0, -0.75, -0.7));
    }
}
