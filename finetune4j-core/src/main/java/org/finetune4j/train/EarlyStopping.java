package org.finetune4j.train;

/**
 * Tracks the best value of metric_for_best_model across evaluations and decides when to stop, as
 * transformers' Trainer (best checkpoint: strictly better than the best so far) and
 * EarlyStoppingCallback (an improvement must beat the best by more than the threshold; stop after
 * {@code patience} evaluations without one) do. It compares with the best so far, never merely the
 * previous evaluation.
 */
public final class EarlyStopping {
    /** The outcome of one evaluation. */
    public record Decision(boolean newBest, boolean improved, int evalsWithoutImprovement, boolean stop) {
    }

    private final boolean greaterIsBetter;
    private final Integer patience;
    private final double threshold;
    private Double best;
    private int counter;

    public EarlyStopping(boolean greaterIsBetter, Integer patience, double threshold) {
        this.greaterIsBetter = greaterIsBetter;
        this.patience = patience;
        this.threshold = threshold;
    }

    /** Restores the state of a checkpoint. */
    public void restore(Double bestSoFar, int evalsWithoutImprovement) {
        this.best = bestSoFar;
        this.counter = evalsWithoutImprovement;
    }

    public Decision update(double value) {
        boolean newBest = best == null || (greaterIsBetter ? value > best : value < best);
        boolean improved = best == null || (greaterIsBetter ? value - best > threshold : best - value > threshold);
        if (newBest) {
            best = value;
        }
        counter = improved ? 0 : counter + 1;
        return new Decision(newBest, improved, counter, patience != null && counter >= patience);
    }

    public Double best() {
        return best;
    }

    public int evalsWithoutImprovement() {
        return counter;
    }
}
