package org.finetune4j.tune;

import java.util.List;

/**
 * Decides, after each intermediate evaluation of a running trial, whether to stop it (Optuna's
 * {@code should_prune}).
 */
public interface Pruner {
    /**
     * @param trial the running trial, with its intermediate values so far (the newest is at {@code step})
     * @param step the evaluation number just reported (1-based)
     * @param others every other trial of the study, finished or still running, with their intermediate values
     */
    boolean shouldPrune(Trial trial, int step, List<Trial> others, Direction direction);
}
