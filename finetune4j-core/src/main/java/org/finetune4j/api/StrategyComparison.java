package org.finetune4j.api;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.report.ComparisonReport;
import org.finetune4j.report.JsonlReader;
import org.finetune4j.report.ReportWriter;
import org.finetune4j.train.Trainer;

/**
 * Trains several strategies on the same data, split, seed and budget, each in its own child JVM, and
 * puts their results side by side: {@code comparison.md}, {@code comparison.json} and a
 * {@code report.html} with charts. A separate process per strategy keeps each one's peak memory its
 * own, so the memory column compares strategies rather than the order they ran in.
 *
 * <p>The child is whatever the caller names (the command line runs its own {@code train --quiet}); it
 * must write a run directory as {@link FineTuning} does, whose {@code run_config.json} "results",
 * {@code eval_results.json} and {@code test_results.json} are read back here. A child that fails is
 * recorded with the tail of its stderr and the comparison goes on with the others.
 */
public final class StrategyComparison {
    public static final List<String> DEFAULT_STRATEGIES = List.of("full", "frozen", "lora", "partial");
    public static final Set<String> KNOWN_STRATEGIES = Set.of("full", "frozen", "lora", "partial");
    public static final String MARKDOWN = "comparison.md";
    public static final String JSON_FILE = "comparison.json";
    /** The child's stdout and stderr, one pair per strategy. */
    public static final String LOGS = "logs";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private StrategyComparison() {
    }

    /** The arguments of the child's main class that train {@code strategy} into {@code runDir}. */
    public interface ChildCommand {
        List<String> args(String strategy, Path runDir);
    }

    /**
     * A comparison to run.
     *
     * @param strategies the strategies, in the order to run and show them; distinct
     * @param output where the comparison and one run directory per strategy ({@code output/<strategy>}) go
     * @param overwrite replace an earlier comparison in {@code output}
     * @param mainClass the child's main class
     * @param command the child's arguments per strategy
     * @param modelId the base model, for the report
     * @param dataset one line describing the data, for the report
     */
    public record Spec(List<String> strategies, Path output, boolean overwrite, String mainClass, ChildCommand command,
            String modelId, String dataset) {
        public Spec {
            if (strategies == null || strategies.isEmpty()) {
                throw new IllegalArgumentException("--strategies is empty: name at least one of " + new TreeSet<>(KNOWN_STRATEGIES));
            }
            for (String s : strategies) {
                if (!KNOWN_STRATEGIES.contains(s)) {
                    throw new IllegalArgumentException("--strategies: unknown strategy \"" + s + "\"; choose from "
                            + new TreeSet<>(KNOWN_STRATEGIES));
                }
            }
            if (new TreeSet<>(strategies).size() != strategies.size()) {
                throw new IllegalArgumentException("--strategies names a strategy twice: " + strategies);
            }
            strategies = List.copyOf(strategies);
        }
    }

    /**
     * One strategy's outcome.
     *
     * @param pid the child process that trained it
     * @param exitCode the child's exit status
     * @param processWallSeconds the child's whole life: JVM start, data preparation, training, evaluation, saving
     * @param peakRssMb the child's peak resident memory: the larger of what it reported and what was polled
     * @param facts the child's measured facts (run_config.json "results"); empty if it failed
     * @param validation final validation metrics (eval_ prefix); empty if none or failed
     * @param test final test metrics (test_ prefix); empty if none or failed
     * @param error what went wrong (the tail of the child's stderr), or null on success
     */
    public record Outcome(String strategy, long pid, int exitCode, Path runDir, double processWallSeconds, double peakRssMb,
            Map<String, Object> facts, Map<String, Double> validation, Map<String, Double> test, String error) {
        public boolean succeeded() {
            return error == null;
        }

        public long trainableParams() {
            return ((Number) facts.get("trainable_params")).longValue();
        }

        public double fact(String key) {
            Object v = facts.get(key);
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }

        /** F1 of the positive class: eval_f1 of a binary task (one with a specificity), else null. */
        public Double positiveClassF1() {
            return validation.containsKey("eval_specificity") ? validation.get("eval_f1") : null;
        }
    }

    /** All outcomes, in the order of {@link Spec#strategies()}. */
    public record Result(Path output, String modelId, String dataset, List<Outcome> outcomes) {
        public boolean allSucceeded() {
            return outcomes.stream().allMatch(Outcome::succeeded);
        }

        public List<Outcome> failures() {
            return outcomes.stream().filter(o -> !o.succeeded()).toList();
        }

        /** The table: one row per strategy; a failed one says so in place of its numbers. */
        public String toMarkdown() {
            StringBuilder sb = new StringBuilder();
            sb.append("# Strategy comparison\n\n");
            if (modelId != null) {
                sb.append("Model `").append(modelId).append("`");
            }
            if (dataset != null) {
                sb.append(modelId != null ? ", data " : "Data ").append(dataset);
            }
            sb.append(modelId != null || dataset != null ? ". " : "")
                    .append("Each strategy ran in its own JVM (pid below); peak RSS is that process's.\n\n");
            List<String> testKeys = testKeys();
            List<String> header = new ArrayList<>(List.of("strategy", "trainable params", "trainable %", "train time s",
                    "process wall s", "train samples/s", "peak RSS MB", "saved MB", "val accuracy", "val macro F1",
                    "val positive-class F1"));
            testKeys.forEach(k -> header.add(k.replace('_', ' ')));
            header.add("pid");
            sb.append("| ").append(String.join(" | ", header)).append(" |\n");
            sb.append("|").append("---|".repeat(header.size())).append("\n");
            for (Outcome o : outcomes) {
                List<String> cells = new ArrayList<>();
                cells.add(o.strategy());
                if (o.succeeded()) {
                    cells.add(String.format(Locale.ROOT, "%,d", o.trainableParams()));
                    cells.add(fmt(o.fact("trainable_percent"), o.fact("trainable_percent") < 1 ? 3 : 1));
                    cells.add(fmt(o.fact("train_runtime_s"), 1));
                    cells.add(fmt(o.processWallSeconds(), 1));
                    cells.add(fmt(o.fact("train_samples_per_second"), 1));
                    cells.add(fmt(o.peakRssMb(), 0));
                    cells.add(fmt(o.fact("saved_mb"), o.fact("saved_mb") < 10 ? 2 : 1));
                    cells.add(fmt(o.validation().get("eval_accuracy"), 4));
                    cells.add(fmt(o.validation().get("eval_macro_f1"), 4));
                    cells.add(fmt(o.positiveClassF1(), 4));
                    testKeys.forEach(k -> cells.add(fmt(o.test().get(k), 4)));
                } else {
                    cells.add("failed (exit " + o.exitCode() + ")");
                    while (cells.size() < header.size() - 1) {
                        cells.add("");
                    }
                }
                cells.add(Long.toString(o.pid()));
                sb.append("| ").append(String.join(" | ", cells)).append(" |\n");
            }
            for (Outcome o : failures()) {
                sb.append("\n**").append(o.strategy()).append(" failed** (exit ").append(o.exitCode())
                        .append("); the end of its stderr:\n\n```\n").append(o.error()).append("\n```\n");
            }
            sb.append("\nTrain time is the training loop alone (the frozen strategy caches the encoder's features"
                    + " before it, so its samples/s counts head steps only); process wall time is the whole child run:"
                    + " JVM start, data preparation, feature caching, training, evaluation and saving.\n");
            return sb.toString();
        }

        /** Test metrics shown in the table: accuracy, macro F1 and (binary) positive-class F1 where present. */
        private List<String> testKeys() {
            List<String> keys = new ArrayList<>();
            for (String k : List.of("test_accuracy", "test_macro_f1", "test_f1")) {
                if (outcomes.stream().anyMatch(o -> o.test().containsKey(k))) {
                    keys.add(k);
                }
            }
            return keys;
        }

        /** Everything measured, per strategy, as JSON. */
        public String toJson() {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("model", modelId);
            all.put("dataset", dataset);
            all.put("parent_pid", ProcessHandle.current().pid());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Outcome o : outcomes) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("strategy", o.strategy());
                r.put("succeeded", o.succeeded());
                r.put("pid", o.pid());
                r.put("exit_code", o.exitCode());
                r.put("run_dir", o.runDir().toString());
                r.put("process_wall_s", o.processWallSeconds());
                if (o.succeeded()) {
                    r.put("trainable_params", o.trainableParams());
                    r.put("trainable_percent", o.fact("trainable_percent"));
                    r.put("train_runtime_s", o.fact("train_runtime_s"));
                    r.put("train_samples_per_second", o.fact("train_samples_per_second"));
                    r.put("peak_rss_mb", o.peakRssMb());
                    r.put("saved_mb", o.fact("saved_mb"));
                    r.put("validation_accuracy", o.validation().get("eval_accuracy"));
                    r.put("validation_macro_f1", o.validation().get("eval_macro_f1"));
                    r.put("validation_positive_class_f1", o.positiveClassF1());
                    r.put("validation", o.validation());
                    r.put("test", o.test());
                    r.put("facts", o.facts());
                } else {
                    r.put("error", o.error());
                }
                rows.add(r);
            }
            all.put("strategies", rows);
            try {
                return JSON.writeValueAsString(all);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** The HTML report's data: the strategies that succeeded (null if none did). */
        public ComparisonReport toReport() {
            List<ComparisonReport.Row> rows = new ArrayList<>();
            List<ComparisonReport.EvalCurve> curves = new ArrayList<>();
            for (Outcome o : outcomes) {
                if (!o.succeeded() || !o.validation().containsKey("eval_accuracy")) {
                    continue;
                }
                Map<String, Double> test = new LinkedHashMap<>();
                testKeys().forEach(k -> {
                    if (o.test().containsKey(k)) {
                        test.put(k, o.test().get(k));
                    }
                });
                rows.add(ComparisonReport.Row.builder(o.strategy()).trainableParams(o.trainableParams())
                        .trainablePercent(o.fact("trainable_percent")).wallTimeSeconds(o.processWallSeconds())
                        .trainSamplesPerSecond(o.fact("train_samples_per_second")).peakRssMb(o.peakRssMb())
                        .savedSizeMb(o.fact("saved_mb")).validationAccuracy(o.validation().get("eval_accuracy"))
                        .macroF1(o.validation().get("eval_macro_f1")).positiveClassF1(o.positiveClassF1()).testMetrics(test)
                        .build());
                Path metrics = o.runDir().resolve(Trainer.METRICS_FILE);
                if (Files.isRegularFile(metrics)) {
                    try {
                        curves.add(ComparisonReport.EvalCurve.fromLogHistory(o.strategy(), JsonlReader.read(metrics)));
                    } catch (IllegalArgumentException noEvaluations) {
                        // a run without evaluations has no curve; the table still has its row
                    }
                }
            }
            return rows.isEmpty() ? null : new ComparisonReport("Strategy comparison", modelId, dataset, rows, curves);
        }
    }

    /** Runs every strategy, one child JVM at a time, and writes the comparison files. */
    public static Result run(Spec spec, Consumer<String> log) {
        prepareOutput(spec);
        List<Outcome> outcomes = new ArrayList<>();
        for (String strategy : spec.strategies()) {
            Path runDir = spec.output().resolve(strategy);
            log.accept("training " + strategy + " in a child JVM -> " + runDir);
            ChildJvm.Result r = ChildJvm.run(spec.mainClass(), spec.command().args(strategy, runDir),
                    spec.output().resolve(LOGS), strategy);
            Outcome o = collect(strategy, runDir, r);
            log.accept(o.succeeded()
                    ? String.format(Locale.ROOT, "%s done in %.1f s (pid %d, peak RSS %.0f MB)", strategy, r.wallSeconds(),
                            r.pid(), o.peakRssMb())
                    : strategy + " FAILED (exit " + r.exitCode() + ", pid " + r.pid() + "); its stderr is in " + r.stderr());
            outcomes.add(o);
        }
        Result result = new Result(spec.output(), spec.modelId(), spec.dataset(), outcomes);
        write(result);
        return result;
    }

    /** Reads a finished child's run directory. */
    static Outcome collect(String strategy, Path runDir, ChildJvm.Result r) {
        double polledMb = r.peakRssBytes() / 1e6;
        if (!r.succeeded()) {
            return new Outcome(strategy, r.pid(), r.exitCode(), runDir, r.wallSeconds(), polledMb, Map.of(), Map.of(),
                    Map.of(), r.stderrTail(ChildJvm.STDERR_TAIL_LINES));
        }
        Path config = runDir.resolve("run_config.json");
        try {
            JsonNode results = JSON.readTree(config.toFile()).get("results");
            if (results == null) {
                throw new IllegalStateException(config + " has no \"results\"");
            }
            Map<String, Object> facts = JSON.convertValue(results, new TypeReference<LinkedHashMap<String, Object>>() {
            });
            Map<String, Double> val = readMetrics(runDir.resolve("eval_results.json"));
            Map<String, Double> test = readMetrics(runDir.resolve("test_results.json"));
            Object reported = facts.get("peak_rss_mb");
            double peak = Math.max(polledMb, reported instanceof Number n ? n.doubleValue() : 0);
            return new Outcome(strategy, r.pid(), r.exitCode(), runDir, r.wallSeconds(), peak, facts, val, test, null);
        } catch (IOException | RuntimeException e) {
            return new Outcome(strategy, r.pid(), r.exitCode(), runDir, r.wallSeconds(), polledMb, Map.of(), Map.of(), Map.of(),
                    "the child exited 0 but its results could not be read: " + e.getMessage());
        }
    }

    private static Map<String, Double> readMetrics(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            return Map.of();
        }
        return JSON.readValue(file.toFile(), new TypeReference<LinkedHashMap<String, Double>>() {
        });
    }

    /** Writes comparison.md, comparison.json and (when any strategy succeeded) report.html with its charts. */
    public static void write(Result r) {
        AtomicFiles.writeString(r.output().resolve(MARKDOWN), r.toMarkdown());
        AtomicFiles.writeString(r.output().resolve(JSON_FILE), r.toJson());
        ComparisonReport report = r.toReport();
        if (report != null) {
            ReportWriter.write(r.output(), report);
        }
    }

    /**
     * An empty (or new) output directory; with overwrite, an earlier comparison's files are removed first,
     * and anything else there is refused so a mistyped --output cannot wipe unrelated files.
     */
    static void prepareOutput(Spec spec) {
        Path dir = spec.output();
        try {
            if (Files.exists(dir) && !Files.isDirectory(dir)) {
                throw new IllegalArgumentException("the output " + dir + " exists and is not a directory");
            }
            Files.createDirectories(dir);
            List<Path> entries;
            try (var s = Files.list(dir)) {
                entries = s.sorted(Comparator.naturalOrder()).toList();
            }
            if (entries.isEmpty()) {
                return;
            }
            if (!spec.overwrite()) {
                throw new IllegalArgumentException("the output directory " + dir + " is not empty. Choose a new --output,"
                        + " or add --overwrite to replace an earlier comparison there.");
            }
            List<String> foreign = entries.stream().map(p -> p.getFileName().toString())
                    .filter(n -> !isComparisonEntry(dir, n)).toList();
            if (!foreign.isEmpty()) {
                throw new IllegalArgumentException("--overwrite refused: " + dir + " holds files a comparison does not write ("
                        + String.join(", ", foreign) + "). Move them away or choose another --output.");
            }
            for (Path p : entries) {
                deleteTree(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the output directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean isComparisonEntry(Path dir, String name) {
        return name.equals(MARKDOWN) || name.equals(JSON_FILE) || name.equals(LOGS) || name.equals(ReportWriter.HTML)
                || name.matches("[a-z_]+\\.png") || KNOWN_STRATEGIES.contains(name)
                && (RunDirectory.holdsRun(dir.resolve(name)) || RunDirectory.isEmpty(dir.resolve(name)));
    }

    private static void deleteTree(Path p) throws IOException {
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }

    static String fmt(Double v, int decimals) {
        return v == null || v.isNaN() ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
    }
}
