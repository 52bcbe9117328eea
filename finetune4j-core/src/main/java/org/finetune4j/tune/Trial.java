package org.finetune4j.tune;

import java.util.Map;
import java.util.SortedMap;

/**
 * What samplers and pruners see of one trial: its number (0-based, in the order trials were started), the
 * parameters sampled for it, its state, its objective value (complete trials; null otherwise) and its
 * intermediate values keyed by evaluation number (1-based: the first evaluation of the run is 1, whether
 * evaluations happen per epoch or per {@code --eval-steps}). A pruned trial's value is null and its last
 * intermediate value is what it reached.
 */
public record Trial(int number, Map<String, Object> params, TrialState state, Double value,
        SortedMap<Integer, Double> intermediate) {
    public Trial {
        params = Map.copyOf(params);
        intermediate = java.util.Collections.unmodifiableSortedMap(new java.util.TreeMap<>(intermediate));
    }
}
