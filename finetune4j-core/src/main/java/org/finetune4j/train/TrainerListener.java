package org.finetune4j.train;

import java.util.Map;

/**
 * Observes a run: progress bars, logging, reports. Listeners never change the run; the one
 * exception is {@link Control#stop()}, the equivalent of transformers' TrainerControl
 * should_training_stop, which ends training cleanly after the current step.
 */
public interface TrainerListener {

    /** Lets a listener ask the trainer to stop after the current step. */
    final class Control {
        private volatile boolean stop;

        public void stop() {
            stop = true;
        }

        public boolean stopRequested() {
            return stop;
        }
    }

    default void onTrainBegin(long totalSteps, long trainableParams, long totalParams) {
    }

    /** After each optimizer update. */
    default void onStep(long globalStep, long totalSteps, double loss, Control control) {
    }

    /** A logging record (training loss and learning rate, or evaluation metrics). */
    default void onLog(Map<String, Object> record) {
    }

    default void onEvaluationProgress(int done, int total) {
    }

    default void onCheckpoint(java.nio.file.Path dir) {
    }

    default void onMessage(String message) {
    }

    default void onTrainEnd() {
    }

    TrainerListener NONE = new TrainerListener() {
    };
}
