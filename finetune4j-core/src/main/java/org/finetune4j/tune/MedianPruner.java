package org.finetune4j.tune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Optuna's {@code MedianPruner} (its {@code PercentilePruner} at the 50th percentile): after an evaluation,
 * prune the trial if its best intermediate value so far is worse than the median of the COMPLETE trials'
 * intermediate values at this same evaluation number.
 *
 * <p>Never prunes while fewer than {@code nStartupTrials} trials are complete, in the trial's first
 * {@code nWarmupSteps} evaluations, when no complete trial reported this evaluation, or at an evaluation that
 * is not the first reported one of its interval ({@code intervalSteps} evaluations long, counted after the
 * warm-up). Optuna counts steps from 0; ours count from 1, so evaluation {@code step} here is Optuna's step
 * {@code step − 1} and the warm-up keeps the same meaning (the first {@code nWarmupSteps} evaluations).
 * A NaN best value is pruned.
 */
public final class MedianPruner implements Pruner {
    private final int nStartupTrials;
    private final int nWarmupSteps;
    private final int intervalSteps;

    /** Optuna's defaults: 5 startup trials, no warm-up, a check at every evaluation. */
    public MedianPruner() {
        this(5, 0, 1);
    }

    public MedianPruner(int nStartupTrials, int nWarmupSteps, int intervalSteps) {
        if (nStartupTrials < 0 || nWarmupSteps < 0 || intervalSteps < 1) {
            throw new IllegalArgumentException("MedianPruner needs nStartupTrials >= 0, nWarmupSteps >= 0 and "
                    + "intervalSteps >= 1, got " + nStartupTrials + ", " + nWarmupSteps + ", " + intervalSteps);
        }
        this.nStartupTrials = nStartupTrials;
        this.nWarmupSteps = nWarmupSteps;
        this.intervalSteps = intervalSteps;
    }

    @Override
    public boolean shouldPrune(Trial trial, int step, List<Trial> others, Direction direction) {
        List<Trial> complete = others.stream()
                .filter(t -> t.state() == TrialState.COMPLETE && t.number() != trial.number()).toList();
        if (complete.isEmpty() || complete.size() < nStartupTrials) {
            return false;
        }
        int zeroBased = step - 1;
        if (zeroBased < nWarmupSteps || !firstInInterval(trial, step)) {
            return false;
        }
        double best = best(trial, direction);
        if (Double.isNaN(best)) {
            return true;
        }
        List<Double> atStep = new ArrayList<>();
        for (Trial t : complete) {
            Double v = t.intermediate().get(step);
            if (v != null && !v.isNaN()) {
                atStep.add(v);
            }
        }
        if (atStep.isEmpty()) {
            return false;
        }
        return direction.better(median(atStep), best);
    }

    /**
     * Optuna's {@code _is_first_in_interval_step}: the check happens at the first evaluation reported at or
     * after each pruning point warm-up + k·interval (0-based), so a trial that skips a point is checked at
     * its next report.
     */
    private boolean firstInInterval(Trial trial, int step) {
        int zeroBased = step - 1;
        int nearestPruningStep = (zeroBased - nWarmupSteps) / intervalSteps * intervalSteps + nWarmupSteps;
        int previous = -1;
        for (int s : trial.intermediate().keySet()) {
            if (s != step && s - 1 > previous) {
                previous = s - 1;
            }
        }
        return previous < nearestPruningStep;
    }

    /** The trial's best intermediate value so far, ignoring NaNs (NaN when all are). */
    private static double best(Trial trial, Direction direction) {
        double best = Double.NaN;
        for (double v : trial.intermediate().values()) {
            if (!Double.isNaN(v) && (Double.isNaN(best) || direction.better(v, best))) {
                best = v;
            }
        }
        return best;
    }

    /** numpy's percentile(values, 50) with linear interpolation: the middle value, or the mean of the two. */
    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : 0.5 * (sorted.get(n / 2 - 1) + sorted.get(n / 2));
    }
}
