package org.finetune4j.tune;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.api.ChildJvm;
import org.finetune4j.train.Trainer;

/**
 * Trials as child JVMs ({@link ChildJvm#start}): each runs a training main class (the command line's
 * {@code train}) into its run directory, which must be laid out as {@code FineTuning} writes it. While it
 * runs, its evaluations are read from the {@code metrics.jsonl} it appends to; when it has exited, its
 * objective from {@code eval_results.json}. Its stdout and stderr go to {@code logs/trial-<n>.*.log}.
 *
 * <p>With several trials at once, each child gets {@code ai.djl.pytorch.num_threads} = max(1, cores / parallel)
 * in place of this JVM's value, so that K trials share the cores instead of each taking all of them.
 */
public final class ChildJvmTrials implements TrialRunner {
    /** The property PyTorch's intra-op thread count is read from (DJL's engine). */
    public static final String NUM_THREADS = "ai.djl.pytorch.num_threads";
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    /** The child main class's arguments that train trial {@code params} into {@code runDir}. */
    public interface Command {
        List<String> args(Map<String, Object> params, Path runDir);
    }

    private final String mainClass;
    private final Command command;
    private final Path logs;
    private final Map<String, String> properties;

    /**
     * @param logs where each trial's stdout and stderr go
     * @param parallel how many trials run at once (sets each child's thread count)
     */
    public ChildJvmTrials(String mainClass, Command command, Path logs, int parallel) {
        this.mainClass = mainClass;
        this.command = command;
        this.logs = logs;
        this.properties = Map.of(NUM_THREADS, Integer.toString(threadsPerTrial(Runtime.getRuntime().availableProcessors(), parallel)));
    }

    /** Each of {@code parallel} trials' share of {@code cores}, at least one. */
    public static int threadsPerTrial(int cores, int parallel) {
        return Math.max(1, cores / parallel);
    }

    @Override
    public Handle start(int number, Map<String, Object> params, Path runDir) {
        ChildJvm.Running child = ChildJvm.start(mainClass, properties, command.args(params, runDir), logs, "trial-" + number);
        return new ChildHandle(child, runDir);
    }

    private static final class ChildHandle implements Handle {
        private final ChildJvm.Running child;
        private final Path runDir;

        ChildHandle(ChildJvm.Running child, Path runDir) {
            this.child = child;
            this.runDir = runDir;
        }

        @Override
        public long pid() {
            return child.pid();
        }

        @Override
        public boolean isAlive() {
            return child.isAlive();
        }

        @Override
        public List<Map<String, Object>> evaluations() {
            child.pollMemory();
            return evaluationRecords(runDir.resolve(Trainer.METRICS_FILE));
        }

        @Override
        public void stop() {
            child.stop();
        }

        @Override
        public Outcome outcome() {
            ChildJvm.Result r = child.result();
            List<Map<String, Object>> all = records(runDir.resolve(Trainer.METRICS_FILE));
            Double epoch = null;
            Long step = null;
            for (Map<String, Object> rec : all) {
                if (rec.get("epoch") instanceof Number e) {
                    epoch = e.doubleValue();
                }
                if (rec.get("step") instanceof Number s) {
                    step = s.longValue();
                }
            }
            double peakMb = r.peakRssBytes() < 0 ? -1 : r.peakRssBytes() / 1e6;
            if (!r.succeeded()) {
                return new Outcome(r.exitCode(), Map.of(), r.wallSeconds(), peakMb, epoch, step,
                        r.stderrTail(ChildJvm.STDERR_TAIL_LINES));
            }
            Path eval = runDir.resolve("eval_results.json");
            Map<String, Double> metrics = new LinkedHashMap<>();
            if (Files.isRegularFile(eval)) {
                try {
                    JSON.readValue(eval.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {
                    }).forEach((k, v) -> {
                        if (v instanceof Number n) {
                            metrics.put(k, n.doubleValue());
                        }
                    });
                } catch (IOException e) {
                    return new Outcome(1, Map.of(), r.wallSeconds(), peakMb, epoch, step, "the child exited 0 but " + eval
                            + " could not be read: " + e.getMessage());
                }
            }
            return new Outcome(0, metrics, r.wallSeconds(), peakMb, epoch, step, null);
        }
    }

    /** The evaluation records ({@code eval_*} keys) of a metrics.jsonl being written. */
    static List<Map<String, Object>> evaluationRecords(Path metricsJsonl) {
        return records(metricsJsonl).stream().filter(r -> r.keySet().stream().anyMatch(k -> k.startsWith("eval_"))).toList();
    }

    /**
     * The whole lines of a metrics.jsonl that another process is appending to: a last line without its newline
     * is still being written and is left for the next read. A missing file (the child has not started
     * training yet) has none.
     */
    static List<Map<String, Object>> records(Path metricsJsonl) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (!Files.isRegularFile(metricsJsonl)) {
            return out;
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(metricsJsonl);
        } catch (IOException e) {
            return out; // being replaced or unreadable right now: the next poll reads it
        }
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] != '\n') {
            end--;
        }
        for (String line : new String(bytes, 0, end, StandardCharsets.UTF_8).split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(JSON.readValue(line, new TypeReference<LinkedHashMap<String, Object>>() {
                }));
            } catch (IOException e) {
                break; // a damaged line: what came before it is what can be trusted
            }
        }
        return out;
    }
}
