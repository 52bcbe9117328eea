package org.finetune4j.tune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A trial runner that trains nothing: trial n's evaluations are {@code curve(params)}, revealed one per poll,
 * and its final objective is the last of them. It writes a run directory's weights and metrics files (so
 * that weight deletion can be checked), fails the trials {@code fails} says, and records what it was asked.
 */
final class FakeTrials implements TrialRunner {
    static final String METRIC = "eval_f1";

    final Function<Map<String, Object>, List<Double>> curve;
    final java.util.function.Predicate<Integer> fails;
    /** Trial numbers in the order they were started. */
    final List<Integer> started = Collections.synchronizedList(new ArrayList<>());
    final Map<Integer, Map<String, Object>> params = new LinkedHashMap<>();
    final Map<Integer, FakeHandle> handles = new LinkedHashMap<>();
    /** A trial whose first poll throws, as if the study were killed while it ran; -1: none. */
    int killAt = -1;

    FakeTrials(Function<Map<String, Object>, List<Double>> curve, java.util.function.Predicate<Integer> fails) {
        this.curve = curve;
        this.fails = fails;
    }

    @Override
    public Handle start(int number, Map<String, Object> p, Path runDir) {
        started.add(number);
        params.put(number, p);
        try {
            Files.createDirectories(runDir.resolve("checkpoint-10"));
            Files.writeString(runDir.resolve("model.safetensors"), "weights");
            Files.writeString(runDir.resolve("checkpoint-10").resolve("model.safetensors"), "weights");
            Files.writeString(runDir.resolve("run_config.json"), "{}");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        FakeHandle h = new FakeHandle(number, curve.apply(p), fails.test(number));
        handles.put(number, h);
        return h;
    }

    final class FakeHandle implements Handle {
        final int number;
        final List<Double> values;
        final boolean fail;
        int revealed;
        boolean stopped;
        final long startNanos = System.nanoTime();
        long endNanos;

        FakeHandle(int number, List<Double> values, boolean fail) {
            this.number = number;
            this.values = values;
            this.fail = fail;
        }

        @Override
        public long pid() {
            return 1000 + number;
        }

        @Override
        public boolean isAlive() {
            boolean alive = !stopped && revealed < (fail ? 1 : values.size());
            if (!alive && endNanos == 0) {
                endNanos = System.nanoTime();
            }
            return alive;
        }

        @Override
        public List<Map<String, Object>> evaluations() {
            if (number == killAt) {
                throw new IllegalStateException("simulated kill -9 of the study while trial " + number + " runs");
            }
            if (!stopped && revealed < values.size()) {
                revealed++;
            }
            List<Map<String, Object>> out = new ArrayList<>();
            for (int k = 0; k < revealed; k++) {
                Map<String, Object> rec = new LinkedHashMap<>();
                rec.put("eval_loss", 1 - values.get(k));
                rec.put(METRIC, values.get(k));
                rec.put("epoch", k + 1.0);
                rec.put("step", 10L * (k + 1));
                out.add(rec);
            }
            return out;
        }

        @Override
        public void stop() {
            stopped = true;
            endNanos = System.nanoTime();
        }

        @Override
        public Outcome outcome() {
            if (fail) {
                return new Outcome(1, Map.of(), 0.5, 100, 1.0, 10L, "Exception in thread \"main\"\ntraining diverged at step 11");
            }
            double last = values.get(revealed - 1);
            return new Outcome(stopped ? 143 : 0, Map.of(METRIC, last, "eval_loss", 1 - last), 1.5, 200 + number, (double) revealed,
                    10L * revealed, null);
        }
    }
}
