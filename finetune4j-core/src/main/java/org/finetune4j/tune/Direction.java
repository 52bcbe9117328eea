package org.finetune4j.tune;

/** Whether a larger objective value is better (maximize) or a smaller one (minimize). */
public enum Direction {
    MAXIMIZE,
    MINIMIZE;

    /** True when {@code a} is strictly better than {@code b} in this direction. */
    public boolean better(double a, double b) {
        return this == MAXIMIZE ? a > b : a < b;
    }
}
