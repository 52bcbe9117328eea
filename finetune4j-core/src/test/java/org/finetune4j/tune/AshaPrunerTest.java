package org.finetune4j.tune;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AshaPrunerTest {

    @Test
    void rungsSitAtMinResourceTimesPowersOfTheReductionFactor() {
        AshaPruner asha = new AshaPruner(1, 3, 0);
        assertEquals(List.of(1L, 3L, 9L, 27L), List.of(asha.rungStep(0), asha.rungStep(1), asha.rungStep(2), asha.rungStep(3)));
        AshaPruner later = new AshaPruner(2, 2, 1);
        assertEquals(List.of(4L, 8L), List.of(later.rungStep(0), later.rungStep(1)));
    }

    /**
     * η = 3, r = 1: rungs at evaluations 1, 3 and 9. Eight trials run one after another for 9 evaluations
     * (minimise), each reporting the value listed for the evaluation (the last one listed from then on).
     * Worked by hand: at each rung a trial goes on iff it is among the best max(1, ⌊n/3⌋) of the n values
     * recorded there, its own included.
     * <pre>
     * t0 5      rung 1: [5] keep; rung 3: [5] keep; rung 9: [5] keep                    complete
     * t1 3      rung 1: 3 best of {5,3}; rung 3: best of {5,3}; rung 9: best of {5,3}    complete
     * t2 4      rung 1: {5,3,4}, keep 1 (3): pruned at 1
     * t3 1      rung 1: best of 4; rung 3: best of {5,3,1}; rung 9: best of {5,3,1}      complete
     * t4 6      rung 1: {5,3,4,1,6}, keep 1 (1): pruned at 1
     * t5 2, 100 at 2, then 2   rung 1: 6 values keep 2 (1,2): kept; evaluation 2 (100) is not a rung;
     *           rung 3: {5,3,1,2}, keep 1 (1): pruned at 3
     * t6 0.5    best at every rung                                                        complete
     * t7 0.8 until 8, then 4   rung 1: 8 values keep 2 (0.5,0.8); rung 3: {5,3,1,2,0.5,0.8} keep 2;
     *           rung 9: {5,3,1,0.5,4} keep 1 (0.5): pruned at 9
     * </pre>
     */
    @Test
    void handWorkedRungsPromoteTheTopThirdAndStopTheRest() {
        List<Map<Integer, Double>> reports = List.of(
                values(5), values(3), values(4), values(1), values(6),
                withAt(values(2), 2, 100.0), values(0.5), withAt(values(0.8), 9, 4.0));
        Map<Integer, Integer> prunedAt = run(new AshaPruner(1, 3, 0), reports, Direction.MINIMIZE);
        assertEquals(Map.of(2, 1, 4, 1, 5, 3, 7, 9), prunedAt);
    }

    @Test
    void maximisingMirrorsTheRanking() {
        // The same scenario with every value negated and the direction flipped stops the same trials.
        List<Map<Integer, Double>> reports = List.of(
                values(-5), values(-3), values(-4), values(-1), values(-6),
                withAt(values(-2), 2, -100.0), values(-0.5), withAt(values(-0.8), 9, -4.0));
        assertEquals(Map.of(2, 1, 4, 1, 5, 3, 7, 9), run(new AshaPruner(), reports, Direction.MAXIMIZE));
    }

    private static Map<Integer, Double> values(double v) {
        Map<Integer, Double> m = new LinkedHashMap<>();
        for (int step = 1; step <= 9; step++) {
            m.put(step, v);
        }
        return m;
    }

    private static Map<Integer, Double> withAt(Map<Integer, Double> m, int step, double v) {
        m.put(step, v);
        return m;
    }

    /** Runs the trials one after another; returns trial number → the evaluation it was pruned at. */
    static Map<Integer, Integer> run(Pruner pruner, List<Map<Integer, Double>> reports, Direction direction) {
        List<Trial> done = new ArrayList<>();
        Map<Integer, Integer> prunedAt = new TreeMap<>();
        for (int n = 0; n < reports.size(); n++) {
            TreeMap<Integer, Double> so = new TreeMap<>();
            TrialState state = TrialState.COMPLETE;
            for (Map.Entry<Integer, Double> report : reports.get(n).entrySet()) {
                so.put(report.getKey(), report.getValue());
                Trial running = new Trial(n, Map.of(), TrialState.RUNNING, null, so);
                if (pruner.shouldPrune(running, report.getKey(), List.copyOf(done), direction)) {
                    prunedAt.put(n, report.getKey());
                    state = TrialState.PRUNED;
                    break;
                }
            }
            done.add(new Trial(n, Map.of(), state, state == TrialState.COMPLETE ? so.lastEntry().getValue() : null, so));
        }
        return prunedAt;
    }
}
