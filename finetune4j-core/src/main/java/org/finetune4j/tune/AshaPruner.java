package org.finetune4j.tune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * Asynchronous successive halving (Li et al. 2018, "A System for Massively Parallel Hyperparameter Tuning",
 * ASHA) as Optuna's {@code SuccessiveHalvingPruner} runs it. The resource is the evaluation number: rung k
 * sits at evaluation r·η^(s+k) (r = {@code minResource}, η = {@code reductionFactor}, s =
 * {@code minEarlyStoppingRate}); with the defaults r = 1, η = 3, s = 0 the rungs are at 1, 3, 9, 27, ...
 *
 * <p>When a trial's evaluation reaches a rung it has not passed yet, its value there is recorded at that rung
 * and compared with every value recorded at the rung so far, its own included: it goes on iff it is among
 * the best max(1, ⌊n/η⌋) of those n values (ties go on), otherwise it is pruned. An evaluation that jumps
 * over several rungs is checked at each in turn. Evaluations between rungs never prune.
 *
 * <p>Optuna keeps the rung values in each trial's storage; here they are recovered from the intermediate
 * values: a trial's value at rung k is its value at its first evaluation at or after the rung.
 */
public final class AshaPruner implements Pruner {
    private final int minResource;
    private final int reductionFactor;
    private final int minEarlyStoppingRate;

    /** Li et al.'s and Optuna's usual setting for epochs: r = 1, η = 3, s = 0. */
    public AshaPruner() {
        this(1, 3, 0);
    }

    public AshaPruner(int minResource, int reductionFactor, int minEarlyStoppingRate) {
        if (minResource < 1 || reductionFactor < 2 || minEarlyStoppingRate < 0) {
            throw new IllegalArgumentException("AshaPruner needs minResource >= 1, reductionFactor >= 2 and "
                    + "minEarlyStoppingRate >= 0, got " + minResource + ", " + reductionFactor + ", "
                    + minEarlyStoppingRate);
        }
        this.minResource = minResource;
        this.reductionFactor = reductionFactor;
        this.minEarlyStoppingRate = minEarlyStoppingRate;
    }

    /** The evaluation number of rung k: r·η^(s+k). */
    public long rungStep(int rung) {
        long step = minResource;
        for (int i = 0; i < minEarlyStoppingRate + rung; i++) {
            step *= reductionFactor;
        }
        return step;
    }

    @Override
    public boolean shouldPrune(Trial trial, int step, List<Trial> others, Direction direction) {
        Double value = trial.intermediate().get(step);
        if (value == null) {
            return false;
        }
        int previous = trial.intermediate().headMap(step).isEmpty() ? 0 : trial.intermediate().headMap(step).lastKey();
        for (int rung = 0; rungStep(rung) <= step; rung++) {
            if (rungStep(rung) <= previous) {
                continue;                                   // passed at an earlier evaluation
            }
            if (value.isNaN()) {
                return true;
            }
            List<Double> competing = new ArrayList<>();
            for (Trial other : others) {
                if (other.number() != trial.number()) {
                    Double atRung = valueAtRung(other, rung);
                    if (atRung != null) {
                        competing.add(atRung);
                    }
                }
            }
            competing.add(value);
            if (!promotable(value, competing, direction)) {
                return true;
            }
        }
        return false;
    }

    /** A trial's value at its first evaluation at or after the rung, or null if it has not reached it. */
    private Double valueAtRung(Trial trial, int rung) {
        Map.Entry<Integer, Double> first = trial.intermediate().tailMap((int) Math.min(Integer.MAX_VALUE, rungStep(rung)))
                .entrySet().stream().findFirst().orElse(null);
        // A NaN is pruned before it is recorded (as Optuna), so it never competes.
        return first == null || first.getValue().isNaN() ? null : first.getValue();
    }

    /** In the best max(1, ⌊n/η⌋) of the n competing values (Optuna's {@code _is_trial_promotable_to_next_rung}). */
    private boolean promotable(double value, List<Double> competing, Direction direction) {
        int kept = Math.max(1, competing.size() / reductionFactor);
        List<Double> sorted = new ArrayList<>(competing);
        Collections.sort(sorted);
        if (direction == Direction.MAXIMIZE) {
            return value >= sorted.get(sorted.size() - kept);
        }
        return value <= sorted.get(kept - 1);
    }
}
