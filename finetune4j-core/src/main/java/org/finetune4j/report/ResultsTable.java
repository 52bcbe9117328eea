package org.finetune4j.report;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * RESULTS.md, generated from what the runs wrote instead of typed by hand: one row per
 * {@code train} run directory (its run_config.json, eval_results.json and test_results.json) and the
 * training and inference tables of one {@code bench} (its bench.json), with the commit, machine and
 * date they were measured at and the commands that reproduce them ({@code scripts/results.sh}).
 */
public final class ResultsTable {
    /** bench.json holds NaN for a measurement that failed; Jackson writes it as the string "NaN" or a bare NaN. */
    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private ResultsTable() {
    }

    /** Accuracy, F1 and macro-F1 on one split. {@code f1} is the positive class's (label id 1) in a binary task, else null. */
    public record Scores(double accuracy, Double f1, double macroF1) {
    }

    /**
     * One {@code train} run.
     *
     * @param dataset the training file's folder and name, e.g. disaster-tweets/train.csv
     * @param settings the training settings that tell the rows apart, e.g. "3 ep, lr 5e-05, batch 16, LoRA r 16 α 32"
     * @param validation null when the run had no validation data
     * @param test null when the run had no test data
     */
    public record Run(Path dir, String dataset, String model, String strategy, String settings, long trainExamples,
            long validationExamples, long testExamples, Scores validation, Scores test, double trainSamplesPerSecond,
            double peakRssMb) {
    }

    /** One training measurement of bench; NaN numbers where it failed. */
    public record TrainingRow(String strategy, String precision, boolean succeeded, double samplesPerSecond, double mfu,
            double peakRssMb) {
    }

    /** Our inference at one batch size and precision against ONNX Runtime's at the same batch size (NaN if not measured). */
    public record InferenceRow(String precision, int batchSize, double samplesPerSecond, double onnxSamplesPerSecond) {
        public double ratio() {
            return samplesPerSecond / onnxSamplesPerSecond;
        }
    }

    /**
     * What a bench.json says.
     *
     * @param untimedSteps training steps run before the timed ones (bench.json's "untimed_steps", formerly "warmup_steps")
     * @param environment one line: CPU, engine, threads, oneMKL dispatch, as the bench's own child JVM saw them
     */
    public record Bench(String model, String data, int batchSize, int maxLength, int steps, int untimedSteps,
            double peakGflops, String cpu, String environment, List<TrainingRow> training, List<InferenceRow> inference) {
    }

    /** The machine the page is generated on: CPU model and logical cores. */
    public record Machine(String cpu, int cores) {
        @Override
        public String toString() {
            return cpu + ", " + cores + " cores";
        }
    }

    /**
     * The whole page.
     *
     * @param commit the commit the rows were measured at
     * @param date when they were measured, e.g. 2026-12-05
     * @param bench null for a page without a bench
     * @param commands the commands that produced the run directories and bench.json, in order
     */
    public record Page(String commit, String date, Machine machine, List<Run> runs, Bench bench, List<String> commands) {
        public Page {
            runs = List.copyOf(runs);
            commands = List.copyOf(commands);
            if (runs.isEmpty() && bench == null) {
                throw new IllegalArgumentException("RESULTS.md needs at least one run directory or a bench.json");
            }
        }

        public String toMarkdown() {
            return ResultsTable.toMarkdown(this);
        }
    }

    // ---- reading run directories ----

    /**
     * Reads a directory that {@code ./finetune4j train --output DIR} wrote.
     *
     * @throws IllegalArgumentException if it holds no run_config.json, or one of its files is not valid JSON
     */
    public static Run readRun(Path dir) {
        JsonNode rc = readJson(dir.resolve("run_config.json"), "a run directory written by `./finetune4j train --output DIR`");
        JsonNode results = rc.path("results");
        JsonNode training = rc.path("training");
        JsonNode data = rc.path("data");
        boolean binary = data.path("labels").size() == 2 && !"multi_label_classification".equals(rc.path("problem_type").asText());
        Path eval = dir.resolve("eval_results.json");
        Path test = dir.resolve("test_results.json");
        String strategy = text(results, "strategy", text(training, "strategy", "?")).toLowerCase(Locale.ROOT);
        return new Run(dir, dataset(data.path("train").asText("?")), text(results, "model", text(rc, "model", "?")), strategy,
                settings(rc, strategy), data.path("sizes").path("train").asLong(), data.path("sizes").path("validation").asLong(),
                data.path("sizes").path("test").asLong(),
                Files.exists(eval) ? scores(readJson(eval, "eval_results.json of a train run"), "eval_", binary) : null,
                Files.exists(test) ? scores(readJson(test, "test_results.json of a train run"), "test_", binary) : null,
                num(results.get("train_samples_per_second")), num(results.get("peak_rss_mb")));
    }

    /** The last two parts of the training file's path: its folder names the data set, its name the file. */
    static String dataset(String trainFile) {
        Path p = Path.of(trainFile);
        int n = p.getNameCount();
        return n >= 2 ? p.getName(n - 2) + "/" + p.getName(n - 1) : trainFile;
    }

    private static Scores scores(JsonNode m, String prefix, boolean binary) {
        return new Scores(num(m.get(prefix + "accuracy")), binary ? num(m.get(prefix + "f1")) : null, num(m.get(prefix + "macro_f1")));
    }

    /** The settings that differ between the rows of the run set; the exact commands are on the page too. */
    static String settings(JsonNode rc, String strategy) {
        JsonNode t = rc.path("training");
        List<String> s = new ArrayList<>();
        s.add(fmtNumber(t.path("num_train_epochs").asDouble()) + " ep");
        s.add("lr " + fmtNumber(t.path("learning_rate").asDouble()));
        s.add("batch " + t.path("per_device_train_batch_size").asInt());
        if (t.path("warmup_steps").asInt() > 0) {
            s.add("warmup " + t.path("warmup_steps").asInt());
        } else if (t.path("warmup_ratio").asDouble() > 0) {
            s.add("warmup " + fmtNumber(t.path("warmup_ratio").asDouble() * 100) + " %");
        }
        if (t.path("weight_decay").asDouble() > 0) {
            s.add("wd " + fmtNumber(t.path("weight_decay").asDouble()));
        }
        if (!"none".equals(t.path("class_weights").asText("none"))) {
            s.add(t.path("class_weights").asText() + " class weights");
        }
        if ("mlp".equals(rc.path("head").path("type").asText())) {
            s.add("mlp head");
        }
        JsonNode lora = rc.path("lora");
        if (strategy.equals("lora") && lora.isObject()) {
            List<String> targets = new ArrayList<>();
            lora.path("target_modules").forEach(m -> targets.add(m.asText()));
            s.add("r " + lora.path("r").asInt() + ", α " + fmtNumber(lora.path("lora_alpha").asDouble())
                    + (targets.isEmpty() ? "" : ", " + String.join(",", targets)));
        }
        if ("bf16".equals(rc.path("precision").asText())) {
            s.add("bf16");
        }
        return String.join(", ", s);
    }

    // ---- reading bench.json ----

    /**
     * Reads the bench.json that {@code ./finetune4j bench --output DIR} wrote.
     *
     * @throws IllegalArgumentException if the file is missing or not valid JSON
     */
    public static Bench readBench(Path file) {
        JsonNode b = readJson(file, "the bench.json that `./finetune4j bench --output DIR` writes into DIR");
        JsonNode settings = b.path("settings");
        JsonNode env = b.path("environment");
        List<TrainingRow> training = new ArrayList<>();
        List<JsonNode> ours = new ArrayList<>();
        List<JsonNode> onnx = new ArrayList<>();
        for (JsonNode m : b.path("measurements")) {
            String name = m.path("name").asText();
            if (name.startsWith("train-")) {
                String[] sp = strategyAndPrecision(name.substring("train-".length()));
                boolean ok = m.path("succeeded").asBoolean();
                JsonNode r = m.path("result");
                training.add(new TrainingRow(sp[0], sp[1], ok, ok ? num(r.get("samples_per_second")) : Double.NaN,
                        ok ? num(r.get("mfu")) : Double.NaN, ok ? num(m.get("peak_rss_mb")) : Double.NaN));
            } else if (name.startsWith("infer-")) {
                ours.add(m);
            } else if (name.startsWith("onnx-")) {
                onnx.add(m);
            }
        }
        List<InferenceRow> inference = new ArrayList<>();
        for (JsonNode m : ours) {
            String precision = strategyAndPrecision(m.path("name").asText().substring("infer-".length()))[1];
            for (JsonNode r : m.path("result").path("results")) {
                int batch = r.path("batch_size").asInt();
                inference.add(new InferenceRow(precision, batch, num(r.get("samples_per_second")), onnxAt(onnx, batch)));
            }
        }
        String cpu = env.path("cpu").asText("?");
        String environment = String.format(Locale.ROOT, "%s, %s intra-op threads, oneMKL CPU dispatch %s",
                env.path("engine").asText("?"), env.path("intra_op_threads").asText("?"), env.path("mkl_cpu_dispatch").asText("?"));
        return new Bench(b.path("model").asText("?"), b.path("data").asText("?"), settings.path("batch_size").asInt(),
                settings.path("max_length").asInt(), settings.path("steps").asInt(),
                settings.has("untimed_steps") ? settings.path("untimed_steps").asInt() : settings.path("warmup_steps").asInt(),
                num(b.get("peak_gflops")), cpu, environment, training, inference);
    }

    /** "full" → {full, fp32}; "full-bf16" → {full, bf16}; "64-bf16" → {64, bf16}: bench names fp32 measurements without a suffix. */
    static String[] strategyAndPrecision(String rest) {
        int dash = rest.lastIndexOf('-');
        if (dash > 0 && List.of("fp32", "bf16").contains(rest.substring(dash + 1))) {
            return new String[] {rest.substring(0, dash), rest.substring(dash + 1)};
        }
        return new String[] {rest, "fp32"};
    }

    private static double onnxAt(List<JsonNode> onnx, int batch) {
        for (JsonNode m : onnx) {
            for (JsonNode r : m.path("result").path("results")) {
                if (r.path("batch_size").asInt() == batch) {
                    return num(r.get("samples_per_second"));
                }
            }
        }
        return Double.NaN;
    }

    // ---- the machine ----

    /**
     * The CPU model ("model name" in /proc/cpuinfo) and the number of logical cores this JVM may use.
     * Where /proc/cpuinfo is missing (not Linux) the CPU is named by its architecture.
     */
    public static Machine machine(Path cpuinfo) {
        String cpu = null;
        try {
            for (String line : Files.readAllLines(cpuinfo)) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // not Linux: fall back to the architecture below
        }
        return new Machine(cpu != null ? cpu : System.getProperty("os.arch") + " CPU (no model name in " + cpuinfo + ")",
                Runtime.getRuntime().availableProcessors());
    }

    // ---- the page ----

    static String toMarkdown(Page p) {
        StringBuilder sb = new StringBuilder("# Results\n\n");
        sb.append("Generated by `scripts/results.sh` (`./finetune4j results`) from the run directories and bench.json it")
                .append(" wrote; do not edit by hand. How each optimization was measured and which test guards it:")
                .append(" [docs/performance.md](docs/performance.md).\n\n");
        sb.append("- commit: `").append(p.commit()).append("`\n");
        sb.append("- machine: ").append(p.machine()).append('\n');
        if (p.bench() != null) {
            sb.append("- engine: ").append(p.bench().environment()).append('\n');
            if (!p.bench().cpu().equals(p.machine().cpu())) {
                sb.append("- note: the bench ran on a different CPU: ").append(p.bench().cpu()).append('\n');
            }
        }
        sb.append("- date: ").append(p.date()).append("\n\n");
        if (!p.runs().isEmpty()) {
            appendRuns(sb, p.runs());
        }
        if (p.bench() != null) {
            appendBench(sb, p.bench());
        }
        if (!p.commands().isEmpty()) {
            sb.append("## Reproduce\n\n`scripts/results.sh` runs these commands from the repository root, then writes this page:\n\n```bash\n");
            p.commands().forEach(c -> sb.append(c).append('\n'));
            sb.append("```\n");
        }
        return sb.toString();
    }

    private static void appendRuns(StringBuilder sb, List<Run> runs) {
        sb.append("## Fine-tuning\n\n");
        sb.append("| dataset | model | strategy | settings | train / val / test examples | val accuracy | val F1 | val macro-F1")
                .append(" | test accuracy | test F1 | test macro-F1 | train samples/s | peak RSS MB |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Run r : runs) {
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %,d / %,d / %,d | %s | %s | %s | %s |%n", r.dataset(),
                    r.model(), r.strategy(), r.settings(), r.trainExamples(), r.validationExamples(), r.testExamples(),
                    scoreCells(r.validation()), scoreCells(r.test()), fixed(r.trainSamplesPerSecond(), 1), fixed(r.peakRssMb(), 0)));
        }
        sb.append("\nF1 is the positive class's (label id 1) in a binary task; – where the task has more classes or the")
                .append(" run had no such split. Train samples/s is the training loop's own (run_config.json `results`);")
                .append(" peak RSS is the `train` process's, evaluations and saving included.\n\n");
    }

    private static String scoreCells(Scores s) {
        if (s == null) {
            return "– | – | –";
        }
        return metric(s.accuracy()) + " | " + (s.f1() == null ? "–" : metric(s.f1())) + " | " + metric(s.macroF1());
    }

    private static void appendBench(StringBuilder sb, Bench b) {
        sb.append("## Throughput\n\n");
        sb.append(String.format(Locale.ROOT, "`bench`: model %s, data %s, batch %d, max_length %d, %d timed training steps after"
                + " %d untimed ones; fp32 matmul peak %s GFLOP/s.%n%n", b.model(), dataset(b.data()), b.batchSize(), b.maxLength(),
                b.steps(), b.untimedSteps(), fixed(b.peakGflops(), 1)));
        sb.append("| strategy | precision | training samples/s | MFU | peak RSS MB |\n|---|---|---|---|---|\n");
        for (TrainingRow t : b.training()) {
            if (!t.succeeded()) {
                sb.append("| ").append(t.strategy()).append(" | ").append(t.precision()).append(" | failed (see the bench's logs) | | |\n");
                continue;
            }
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", t.strategy(), t.precision(),
                    fixed(t.samplesPerSecond(), 1), percent(t.mfu()), fixed(t.peakRssMb(), 0)));
        }
        sb.append("\nMFU: model FLOP/s (real tokens) over the fp32 matmul peak measured in the same bench. The frozen")
                .append(" row runs the encoder every step; `train --strategy frozen` computes its features once.\n\n");
        if (!b.inference().isEmpty()) {
            sb.append("| precision | batch | finetune4j samples/s | ONNX Runtime samples/s | × ONNX Runtime |\n|---|---|---|---|---|\n");
            for (InferenceRow r : b.inference()) {
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s |%n", r.precision(), r.batchSize(),
                        fixed(r.samplesPerSecond(), 1), fixed(r.onnxSamplesPerSecond(), 1),
                        Double.isNaN(r.ratio()) ? "–" : fixed(r.ratio(), 2) + " ×"));
            }
            sb.append("\nInference: the first texts in file order, padded to the longest in each batch; each engine and")
                    .append(" batch size in its own process. ONNX Runtime runs the same model's ONNX export (fp32).\n\n");
        }
    }

    // ---- helpers ----

    private static JsonNode readJson(Path file, String what) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(file + ": no such file; expected " + what);
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new IllegalArgumentException(file + " is not valid JSON (" + e.getMessage() + "); expected " + what, e);
        }
    }

    private static String text(JsonNode n, String field, String otherwise) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? otherwise : v.asText();
    }

    /** A JSON number, or NaN where it is missing, null, or the string "NaN" Jackson writes for a NaN double. */
    static double num(JsonNode v) {
        if (v == null || v.isNull()) {
            return Double.NaN;
        }
        if (v.isNumber()) {
            return v.asDouble();
        }
        try {
            return Double.parseDouble(v.asText());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String metric(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String fixed(double v, int decimals) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    private static String percent(double v) {
        return Double.isNaN(v) || Double.isInfinite(v) ? "–" : String.format(Locale.ROOT, "%.1f %%", 100 * v);
    }

    /** 3.0 → "3", 5.0E-5 → "5e-5", 0.02 → "0.02": as a command line would give them. */
    static String fmtNumber(double v) {
        if (v == 0 || Math.abs(v) >= 1e-3) {
            return BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
        }
        int exponent = (int) Math.floor(Math.log10(Math.abs(v)));
        BigDecimal mantissa = BigDecimal.valueOf(v / Math.pow(10, exponent)).round(new MathContext(6));
        return mantissa.stripTrailingZeros().toPlainString() + "e" + exponent;
    }
}
