package org.finetune4j.tune;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Everything a study knows of one trial: what samplers and pruners see ({@link #trial()}) and what the
 * results table shows besides.
 *
 * @param number 0-based, in the order trials were started
 * @param params space name to value, in the space's order
 * @param state RUNNING until it finishes
 * @param value the objective (COMPLETE trials only)
 * @param intermediate the objective per evaluation (1-based evaluation number)
 * @param runDir the trial's run directory
 * @param started when it (last) started
 * @param finished when it finished, or null
 * @param wallSeconds its whole run, start-up included (NaN until finished)
 * @param peakRssMb its peak resident memory (-1 when unknown)
 * @param epoch the epoch it reached, or null
 * @param step the optimizer step it reached, or null
 * @param pid the process that ran it (-1 when unknown)
 * @param error why it failed (the end of its stderr), or null
 */
public record TrialRecord(int number, Map<String, Object> params, TrialState state, Double value,
        SortedMap<Integer, Double> intermediate, Path runDir, Instant started, Instant finished, double wallSeconds,
        double peakRssMb, Double epoch, Long step, long pid, String error) {
    public TrialRecord {
        params = Collections.unmodifiableMap(new LinkedHashMap<>(params));
        intermediate = Collections.unmodifiableSortedMap(new TreeMap<>(intermediate));
    }

    /** The trial as samplers and pruners see it. */
    public Trial trial() {
        return new Trial(number, params, state, value, intermediate);
    }

    /** The last intermediate value, or null. */
    public Double lastIntermediate() {
        return intermediate.isEmpty() ? null : intermediate.get(intermediate.lastKey());
    }
}
