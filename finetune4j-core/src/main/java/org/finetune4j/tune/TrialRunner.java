package org.finetune4j.tune;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs one trial of a study: trains with the trial's parameters into its run directory. {@link Tuning}
 * starts trials, polls them for their evaluations (what pruners judge), stops the ones a pruner rejects
 * and collects the rest; how a trial trains is the runner's business (the command line runs {@code train}
 * in a child JVM, {@link ChildJvmTrials}; tests use runners that run nothing).
 */
public interface TrialRunner {

    /** Starts trial {@code number} with {@code params} (space name to value), writing into {@code runDir}. */
    Handle start(int number, Map<String, Object> params, Path runDir);

    /** A started trial. {@link Tuning} calls it from one thread. */
    interface Handle {
        /** The process (or other id) that runs the trial, for the log. */
        long pid();

        /** True while the trial runs. */
        boolean isAlive();

        /**
         * The evaluation records written so far, in order (the run's {@code metrics.jsonl} records that hold
         * {@code eval_*} keys): record k-1 is evaluation k. Also the moment to take measurements such as memory.
         */
        List<Map<String, Object>> evaluations();

        /** Ends the trial at once (a pruned trial); returns once it has ended. */
        void stop();

        /** What the trial did; called once, after it has ended. */
        Outcome outcome();
    }

    /**
     * What a trial did.
     *
     * @param exitCode 0 when it trained to the end
     * @param finalMetrics the final evaluation of the model it kept ({@code eval_results.json}); empty if none
     * @param wallSeconds its whole run, start-up included
     * @param peakRssMb its peak resident memory, or -1 where unknown
     * @param epoch the epoch it reached (the last logged), or null
     * @param step the optimizer step it reached (the last logged), or null
     * @param error what went wrong (the end of its stderr), or null
     */
    record Outcome(int exitCode, Map<String, Double> finalMetrics, double wallSeconds, double peakRssMb, Double epoch,
            Long step, String error) {
        public Outcome {
            finalMetrics = Map.copyOf(finalMetrics);
        }
    }
}
