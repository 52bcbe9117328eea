package org.finetune4j.train;

import java.util.Map;

/**
 * Observes a run: progress bars, logging, reports, memory probes ({@link MemoryProbe}). Listeners never
 * change the run: they may add keys to a log record they are shown (as transformers' on_log may), and
 * the one way to steer is {@link Control#stop()}, the equivalent of transformers' TrainerControl
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

    /** The listeners in order: each sees every event, and a record after the ones before it (which may add keys). */
    static TrainerListener all(TrainerListener... listeners) {
        java.util.List<TrainerListener> ls = java.util.List.of(listeners);
        return new TrainerListener() {
            @Override
            public void onTrainBegin(long totalSteps, long trainableParams, long totalParams) {
                ls.forEach(l -> l.onTrainBegin(totalSteps, trainableParams, totalParams));
            }

            @Override
            public void onStep(long globalStep, long totalSteps, double loss, Control control) {
                ls.forEach(l -> l.onStep(globalStep, totalSteps, loss, control));
            }

            @Override
            public void onLog(Map<String, Object> record) {
                ls.forEach(l -> l.onLog(record));
            }

            @Override
            public void onEvaluationProgress(int done, int total) {
                ls.forEach(l -> l.onEvaluationProgress(done, total));
            }

            @Override
            public void onCheckpoint(java.nio.file.Path dir) {
                ls.forEach(l -> l.onCheckpoint(dir));
            }

            @Override
            public void onMessage(String message) {
                ls.forEach(l -> l.onMessage(message));
            }

            @Override
            public void onTrainEnd() {
                ls.forEach(TrainerListener::onTrainEnd);
            }
        };
    }
}
