package org.finetune4j.report;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What a hyperparameter study's report shows: every trial's state, objective, parameters and intermediate
 * values (built by {@code org.finetune4j.tune.StudyResult}).
 *
 * @param metric the objective's name
 * @param maximize whether a larger objective is better
 * @param logScale per parameter, in the space's order: whether it was searched on a log scale (its charts use one)
 * @param trials in trial-number order
 * @param best the best trial's number, or null when none completed
 * @param refitNote what the refit model is, or null when there is none
 */
public record TuneReport(String metric, boolean maximize, Map<String, Boolean> logScale, List<Point> trials, Integer best,
        String refitNote) {
    public TuneReport {
        logScale = Collections.unmodifiableMap(new LinkedHashMap<>(logScale));
        trials = List.copyOf(trials);
    }

    /**
     * One trial.
     *
     * @param state COMPLETE, PRUNED, FAILED or RUNNING
     * @param value the objective of a complete trial, else null
     * @param intermediate the objective per evaluation (1-based)
     */
    public record Point(int number, String state, Double value, Map<String, Object> params,
            SortedMap<Integer, Double> intermediate) {
        public Point {
            params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
            intermediate = Collections.unmodifiableSortedMap(new TreeMap<>(intermediate));
        }

        public boolean complete() {
            return value != null;
        }
    }
}
