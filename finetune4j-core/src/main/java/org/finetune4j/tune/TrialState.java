package org.finetune4j.tune;

/** Where a trial is: running, or finished as complete, pruned or failed (Optuna's TrialState). */
public enum TrialState {
    RUNNING,
    COMPLETE,
    PRUNED,
    FAILED;

    public boolean finished() {
        return this != RUNNING;
    }
}
