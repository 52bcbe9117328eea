package org.finetune4j.server;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.finetune4j.api.Prediction;

/**
 * Runs a request's texts through the model. {@link MicroBatcher} queues them into shared forward passes;
 * {@link #direct} runs them on the calling thread. Both count the forward passes they start, which is
 * what the batching test and the benchmark compare.
 */
interface Inference extends AutoCloseable {
    /** Predictions for {@code texts}, in order. Blocks until they are ready. */
    List<Prediction> classify(List<String> texts) throws InterruptedException;

    /** Calls of the model so far (each is one padded batch). */
    long forwardPasses();

    /** Stops taking work and finishes what was accepted. */
    @Override
    void close();

    /** No queue: each request calls the (thread-safe) classifier itself. */
    static Inference direct(Function<List<String>, List<Prediction>> model) {
        AtomicLong passes = new AtomicLong();
        return new Inference() {
            @Override
            public List<Prediction> classify(List<String> texts) {
                passes.incrementAndGet();
                return model.apply(texts);
            }

            @Override
            public long forwardPasses() {
                return passes.get();
            }

            @Override
            public void close() {
            }
        };
    }
}
