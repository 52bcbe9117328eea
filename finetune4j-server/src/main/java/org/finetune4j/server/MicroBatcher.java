package org.finetune4j.server;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.finetune4j.api.Prediction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Server-side micro-batching. Request threads put their texts on a queue and wait; a worker thread
 * (one by default, or several sharing the queue) takes the first waiting request, keeps collecting requests for up to {@code window} or until
 * {@code maxBatchSize} texts, runs one forward pass over all of them and hands each request its rows.
 * While a pass runs, new requests queue up, so under load batches fill without waiting for the window.
 *
 * <p>A request is never split: one with more texts than {@code maxBatchSize} runs in a pass of its own
 * (the classifier then batches it internally).
 */
final class MicroBatcher implements Inference {
    private static final Logger log = LoggerFactory.getLogger(MicroBatcher.class);

    private record Pending(List<String> texts, CompletableFuture<List<Prediction>> result) {
    }

    private final Function<List<String>, List<Prediction>> model;
    private final long windowNanos;
    private final int maxBatchSize;
    private final BlockingQueue<Pending> queue;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicLong passes = new AtomicLong();
    private volatile boolean closed;

    MicroBatcher(Function<List<String>, List<Prediction>> model, ServerConfig.Batching cfg) {
        this.model = model;
        this.windowNanos = cfg.window().toNanos();
        this.maxBatchSize = cfg.maxBatchSize();
        this.queue = new ArrayBlockingQueue<>(cfg.maxQueued());
        for (int i = 0; i < cfg.workers(); i++) {
            Thread w = new Thread(this::run, "finetune4j-batcher-" + i);
            w.setDaemon(true);
            w.start();
            workers.add(w);
        }
    }

    @Override
    public List<Prediction> classify(List<String> texts) throws InterruptedException {
        Pending p = new Pending(texts, new CompletableFuture<>());
        synchronized (this) { // with close(): nothing is queued after a worker may have seen "closed and empty"
            if (closed) {
                throw new ApiError(503, "shutting_down", "the server is shutting down; retry on another instance");
            }
            if (!queue.offer(p)) {
                throw new ApiError(503, "overloaded", queue.size() + " requests are already waiting for the model; retry shortly");
            }
        }
        try {
            return p.result().get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException("the forward pass failed", cause);
        }
    }

    @Override
    public long forwardPasses() {
        return passes.get();
    }

    private void run() {
        Pending carried = null; // taken from the queue but did not fit in the last batch
        while (true) {
            Pending first;
            try {
                first = carried != null ? carried : queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                break;
            }
            carried = null;
            if (first == null) {
                if (closed && queue.isEmpty()) {
                    break;
                }
                continue;
            }
            List<Pending> batch = new ArrayList<>();
            batch.add(first);
            int size = first.texts().size();
            long deadline = System.nanoTime() + windowNanos;
            while (size < maxBatchSize) {
                Pending next = queue.poll(); // already waiting: take it without waiting for the window
                if (next == null) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        next = queue.poll(left, TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                    if (next == null) {
                        break;
                    }
                }
                if (size + next.texts().size() > maxBatchSize) {
                    carried = next;
                    break;
                }
                batch.add(next);
                size += next.texts().size();
            }
            runBatch(batch, size);
            if (Thread.interrupted()) {
                break;
            }
        }
        failRemaining(carried);
    }

    private void runBatch(List<Pending> batch, int size) {
        List<String> texts = new ArrayList<>(size);
        for (Pending p : batch) {
            texts.addAll(p.texts());
        }
        try {
            passes.incrementAndGet();
            List<Prediction> out = model.apply(texts);
            int at = 0;
            for (Pending p : batch) {
                p.result().complete(out.subList(at, at + p.texts().size()));
                at += p.texts().size();
            }
        } catch (RuntimeException | Error e) {
            log.error("forward pass over {} texts failed", size, e);
            for (Pending p : batch) {
                p.result().completeExceptionally(e);
            }
        }
    }

    private void failRemaining(Pending carried) {
        List<Pending> left = new ArrayList<>();
        if (carried != null) {
            left.add(carried);
        }
        queue.drainTo(left);
        for (Pending p : left) {
            p.result().completeExceptionally(new ApiError(503, "shutting_down", "the server stopped before this request ran"));
        }
    }

    /** Refuses new requests, lets the workers finish every accepted one, then stops them. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
        }
        for (Thread w : workers) {
            try {
                w.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (w.isAlive()) {
                w.interrupt();
            }
        }
    }
}
