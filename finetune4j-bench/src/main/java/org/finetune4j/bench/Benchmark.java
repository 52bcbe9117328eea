package org.finetune4j.bench;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.finetune4j.api.ChildJvm;
import org.finetune4j.api.DataSpec;
import org.finetune4j.api.FineTuning;
import org.finetune4j.api.ModelLocator;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.text.TextTokenizer;
import ai.djl.ndarray.NDManager;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.Example;
import org.finetune4j.data.LabelMode;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.nn.Precision;
import org.finetune4j.onnx.PackagedModels;
import org.finetune4j.report.ScalingCharts;

/**
 * Throughput and memory of a model on a dataset: the fp32 matmul peak of the machine, training
 * samples/s and tokens/s per strategy over a fixed number of steps with its forward/backward/optimizer
 * split and model FLOPs utilisation, inference samples/s per batch size, optionally the same inference
 * through ONNX Runtime, and optionally scaling curves as PNG charts. Every measurement runs in its own
 * child JVM ({@link BenchWorker}), so each peak RSS is that measurement's alone. Writes bench.json and
 * bench.md.
 */
public final class Benchmark {
    public static final String JSON_FILE = "bench.json";
    public static final String MARKDOWN = "bench.md";
    static final String DATA_FILE = "bench-data.jsonl";

    private Benchmark() {
    }

    /**
     * What to measure.
     *
     * @param model model directory or packaged id
     * @param data the training data (its split, if any, is ignored: the bench uses the training file's texts)
     * @param onnx also run inference through ONNX Runtime at {@code onnxBatches}
     * @param onnxFile the ONNX export of the model; null for a packaged model's own
     * @param scalingDir where scaling charts go; null for no scaling measurements
     * @param matrixSize n of the n×n matmul that measures the fp32 peak
     * @param precisions fp32 and/or bf16: each training strategy and inference batch size is measured at each
     */
    public record Spec(String model, DataSpec data, List<String> strategies, int frozenLayers, int loraR, double loraAlpha,
            List<String> loraTargets, int batchSize, int maxLength, int untimedSteps, int steps, List<Integer> inferBatches,
            int inferSamples, boolean onnx, Path onnxFile, List<Integer> onnxBatches, Path scalingDir,
            List<Integer> scaleLengths, List<Integer> scaleBatches, List<Integer> scaleSizes, int scaleSteps, int matrixSize,
            long seed, Path output, boolean overwrite, List<String> precisions, boolean randomWeights) {
        public Spec {
            precisions = precisions == null || precisions.isEmpty() ? List.of("fp32") : List.copyOf(precisions);
            for (String p : precisions) {
                Precision.parse(p); // a clear error for anything but fp32 and bf16
            }
            require(batchSize > 0 && maxLength > 1 && steps > 0 && untimedSteps >= 0 && scaleSteps > 0 && matrixSize > 0,
                    "--batch-size, --max-length, --steps, --scaling-steps and --peak-matrix must be positive, --untimed-steps >= 0");
            for (String s : strategies) {
                require(List.of("full", "frozen", "lora", "partial").contains(s),
                        "--strategies: unknown strategy \"" + s + "\"; choose from full, frozen, lora, partial");
            }
            require(!inferBatches.isEmpty() && inferBatches.stream().allMatch(b -> b > 0), "--inference-batches must be positive");
        }
    }

    /** One child's outcome: what it measured, or why it failed. */
    public record Measurement(String name, long pid, int exitCode, double wallSeconds, double polledPeakRssMb,
            Map<String, Object> result, String error) {
        public boolean succeeded() {
            return error == null;
        }

        double peakRssMb() {
            Object v = result.get("peak_rss_mb");
            return Math.max(polledPeakRssMb, v instanceof Number n ? n.doubleValue() : 0);
        }
    }

    /** All measurements. */
    public record Result(Spec spec, Map<String, Object> environment, List<Measurement> measurements) {
        public boolean allSucceeded() {
            return measurements.stream().allMatch(Measurement::succeeded);
        }

        public List<Measurement> failures() {
            return measurements.stream().filter(m -> !m.succeeded()).toList();
        }

        Measurement get(String name) {
            return measurements.stream().filter(m -> m.name().equals(name) && m.succeeded()).findFirst().orElse(null);
        }

        /** The fp32 matmul peak in GFLOP/s, or NaN if it was not measured. */
        public double peakGflops() {
            Measurement p = get("peak");
            return p == null ? Double.NaN : num(p.result().get("peak_gflops"));
        }

        public String toJson() {
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("date", Instant.now().toString());
            all.put("model", spec.model());
            all.put("data", spec.data().train().toString());
            all.put("settings", Map.of("batch_size", spec.batchSize(), "max_length", spec.maxLength(), "untimed_steps",
                    spec.untimedSteps(), "steps", spec.steps(), "seed", spec.seed()));
            all.put("environment", environment);
            all.put("peak_gflops", peakGflops());
            List<Map<String, Object>> ms = new ArrayList<>();
            for (Measurement m : measurements) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("name", m.name());
                r.put("pid", m.pid());
                r.put("succeeded", m.succeeded());
                r.put("process_wall_s", m.wallSeconds());
                if (m.succeeded()) {
                    r.put("peak_rss_mb", m.peakRssMb());
                    Map<String, Object> res = new LinkedHashMap<>(m.result());
                    if (res.containsKey("model_gflops_per_second")) {
                        res.put("mfu", num(res.get("model_gflops_per_second")) / peakGflops());
                        res.put("executed_flops_utilisation", num(res.get("executed_gflops_per_second")) / peakGflops());
                    }
                    r.put("result", res);
                } else {
                    r.put("exit_code", m.exitCode());
                    r.put("error", m.error());
                }
                ms.add(r);
            }
            all.put("measurements", ms);
            try {
                return BenchWorker.JSON.writeValueAsString(all);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        public String toMarkdown() {
            StringBuilder sb = new StringBuilder("# Throughput and memory\n\n");
            sb.append(String.format(Locale.ROOT, "Model `%s`, data `%s`, batch %d, max_length %d, %d timed training steps after %d"
                    + " untimed ones, seed %d.%n%n", spec.model(), spec.data().train(), spec.batchSize(), spec.maxLength(),
                    spec.steps(), spec.untimedSteps(), spec.seed()));
            sb.append(String.format(Locale.ROOT, "Machine: %s (%s), device %s, %s intra-op threads (%s inter-op), %s available"
                    + " processors; %s; oneMKL CPU dispatch: %s; fused training kernels: %s. fp32 matmul peak (%d×%d sgemm through DJL): **%.1f GFLOP/s**"
                    + " (best), %s GFLOP/s"
                    + " (median).%n%n", environment.get("cpu"), environment.get("cpu_features") instanceof List<?> f && !f.isEmpty()
                            ? String.join(", ", f.stream().map(Object::toString).toList()) : "no SIMD flags read",
                    environment.get("device"), environment.get("intra_op_threads"),
                    environment.get("inter_op_threads"), environment.get("available_processors"), environment.get("engine"),
                    environment.get("mkl_cpu_dispatch"), environment.getOrDefault("fused_kernels", "?"), spec.matrixSize(),
                    spec.matrixSize(), peakGflops(),
                    get("peak") == null ? "?" : fmt(num(get("peak").result().get("median_gflops")), 1)));
            sb.append("## Training\n\n");
            sb.append("| strategy | trainable params | samples/s | real tokens/s | padded tokens/s | padding | forward ms/step"
                    + " | backward ms/step | optimizer ms/step | peak RSS MB | model GFLOP/s | MFU | pid |\n");
            sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
            for (String p : spec.precisions()) {
                for (String s : spec.strategies()) {
                    String name = "train-" + s + suffix(p);
                    Measurement m = get(name);
                    if (m == null) {
                        sb.append("| ").append(s).append(suffix(p)).append(" | failed |||||||||||").append(pidOf(name)).append(" |\n");
                        continue;
                    }
                    Map<String, Object> r = m.result();
                    int skipped = (int) num(r.get("non_finite_steps"));
                    String label = (s + suffix(p)) + (skipped > 0 ? " (" + skipped + " non-finite steps skipped)" : "");
                    sb.append(String.format(Locale.ROOT, "| %s | %,d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d |%n", label,
                            ((Number) r.get("trainable_params")).longValue(), fmt(num(r.get("samples_per_second")), 1),
                            fmt(num(r.get("real_tokens_per_second")), 0), fmt(num(r.get("padded_tokens_per_second")), 0),
                            pct(num(r.get("padding_fraction"))), fmt(num(r.get("forward_ms_per_step")), 0),
                            fmt(num(r.get("backward_ms_per_step")), 0), fmt(num(r.get("optimizer_ms_per_step")), 0),
                            fmt(m.peakRssMb(), 0), fmt(num(r.get("model_gflops_per_second")), 1),
                            pct(num(r.get("model_gflops_per_second")) / peakGflops()), m.pid()));
                }
            }
            sb.append("\nMFU = model FLOP/s ÷ the fp32 matmul peak above (a -bf16 row's products run in bf16, whose peak"
                    + " is higher, so its MFU can pass 100 %). Model FLOPs count the real (unpadded) tokens:"
                    + " per token and layer 2·(4H² + 2·H·I) + 2·2·T·H forward, ×3 for a trained layer, ×2 for a frozen layer"
                    + " gradients pass through (LoRA), ×1 forward-only (frozen); see ModelFlops. The frozen row runs the"
                    + " encoder every step; `train --strategy frozen` instead caches the encoder's features once, so its"
                    + " epochs after the first cost head steps only.\n\n");
            for (String p : spec.precisions()) {
                for (String s : spec.strategies()) {
                    Measurement m = get("train-" + s + suffix(p));
                    if (m != null && m.result().get("steps_100_to_119_tokens_per_second") instanceof Number steady) {
                        double start = num(m.result().get("first_20_steps_tokens_per_second"));
                        sb.append(String.format(Locale.ROOT, "Start-up, %s: the process's first 20 steps ran %s real tokens/s,"
                                + " steps 100–119 %s (%s of the steady rate).%n%n", s + suffix(p), fmt(start, 0),
                                fmt(steady.doubleValue(), 0), pct(start / steady.doubleValue())));
                    }
                }
            }
            sb.append("## Inference\n\n| engine | batch | samples/s | real tokens/s | padded tokens/s | padding | peak RSS MB | pid |\n");
            sb.append("|---|---|---|---|---|---|---|---|\n");
            List<String> inference = measurements.stream().map(Measurement::name)
                    .filter(n -> n.startsWith("infer-") || n.startsWith("onnx-")).toList();
            for (String name : inference) {
                Measurement m = get(name);
                if (m == null) {
                    sb.append("| ").append(name).append(" | failed |||||| ").append(pidOf(name)).append(" |\n");
                    continue;
                }
                @SuppressWarnings("unchecked")
                List<Map<String, Object>> rows = (List<Map<String, Object>>) m.result().get("results");
                for (Map<String, Object> r : rows) {
                    sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %d |%n", m.result().get("engine_name"),
                            r.get("batch_size"), fmt(num(r.get("samples_per_second")), 1), fmt(num(r.get("real_tokens_per_second")), 0),
                            fmt(num(r.get("padded_tokens_per_second")), 0), pct(num(r.get("padding_fraction"))),
                            fmt(m.peakRssMb(), 0), m.pid()));
                }
            }
            sb.append("\nInference batches are the first examples in file order (not grouped by length), padded to the"
                    + " longest in the batch; the first batch of each size is not timed. Each batch size runs in its own"
                    + " process (small batches run first left the next ones in the same process ~30 % slower). Our engine"
                    + " packs a padded batch to its real tokens (models/PackedTokens);"
                    + " ONNX Runtime computes the padding.\n");
            for (Measurement m : failures()) {
                sb.append("\n**").append(m.name()).append(" failed** (exit ").append(m.exitCode()).append("):\n\n```\n")
                        .append(m.error()).append("\n```\n");
            }
            return sb.toString();
        }

        private String pidOf(String name) {
            return measurements.stream().filter(m -> m.name().equals(name)).map(m -> Long.toString(m.pid())).findFirst().orElse("");
        }
    }

    public static Result run(Spec spec, Consumer<String> log) {
        Path out = spec.output();
        prepareOutput(out, spec.overwrite());
        Path modelDir = ModelLocator.resolve(spec.model());
        if (spec.randomWeights()) {
            modelDir = withRandomWeights(modelDir, out.resolve(RANDOM_MODEL), spec.seed(), log);
        }
        FineTuning.Prepared prepared = FineTuning.prepare(new DataSpec(spec.data().train(), null, null, null, spec.data().read(),
                spec.data().cleaner(), spec.data().dropDuplicates(), spec.data().dropEmpty()), spec.seed(), log);
        if (prepared.train().labelMode() != LabelMode.SINGLE) {
            throw new IllegalArgumentException("bench measures single-label classification; " + spec.data().train()
                    + " is multi-label");
        }
        Path dataFile = out.resolve(DATA_FILE);
        writeJsonl(prepared.train(), dataFile);
        Path onnxFile = spec.onnx() ? onnxFile(spec, out) : null;
        BenchTask base = new BenchTask("", modelDir.toAbsolutePath().toString(), dataFile.toAbsolutePath().toString(),
                prepared.labels().names(), "full", spec.frozenLayers(), spec.loraR(), spec.loraAlpha(), spec.loraTargets(),
                spec.batchSize(), spec.maxLength(), spec.untimedSteps(), spec.steps(), spec.inferBatches(), spec.inferSamples(),
                spec.scaleLengths(), spec.scaleSizes(), spec.matrixSize(), onnxFile == null ? null : onnxFile.toString(), 0,
                spec.seed(), "fp32");

        List<Measurement> ms = new ArrayList<>();
        Measurement peak = measure("peak", base.with("peak", null), out, log);
        ms.add(peak);
        for (String p : spec.precisions()) {
            for (String s : spec.strategies()) {
                ms.add(measure("train-" + s + suffix(p), base.with("train", s).withPrecision(p), out, log));
            }
        }
        for (String p : spec.precisions()) {
            for (int bs : spec.inferBatches()) {
                ms.add(measure("infer-" + bs + suffix(p), base.with("infer", null).withBatches(List.of(bs)).withPrecision(p), out,
                        log));
            }
        }
        if (onnxFile != null) {
            int threads = peak.succeeded() ? ((Number) peak.result().get("intra_op_threads")).intValue()
                    : Runtime.getRuntime().availableProcessors();
            BenchTask onnx = new BenchTask("onnx", base.modelDir(), base.dataFile(), base.labels(), null, 0, 0, 0, null,
                    base.batchSize(), base.maxLength(), 0, 0, spec.onnxBatches(), spec.inferSamples(), null, null, 0,
                    base.onnxFile(), threads, base.seed(), null);
            for (int bs : spec.onnxBatches()) {
                ms.add(measure("onnx-" + bs, onnx.withBatches(List.of(bs)), out, log));
            }
            // the ONNX file was extracted for this run only
            if (spec.onnxFile() == null) {
                deleteQuietly(onnxFile);
            }
        }
        if (spec.scalingDir() != null) {
            BenchTask scaleBase = new BenchTask("", base.modelDir(), base.dataFile(), base.labels(), "full", 0, 0, 0, null,
                    spec.batchSize(), spec.maxLength(), 1, spec.scaleSteps(), spec.scaleBatches(), 0, spec.scaleLengths(),
                    spec.scaleSizes(), 0, null, 0, spec.seed(), "fp32");
            for (String kind : List.of("scale-length", "scale-batch", "scale-data")) {
                ms.add(measure(kind, scaleBase.with(kind, "full"), out, log));
            }
        }
        Map<String, Object> env = peak.succeeded() ? envOf(peak.result()) : Map.of();
        Result r = new Result(spec, env, ms);
        if (spec.randomWeights()) {
            deleteTree(out.resolve(RANDOM_MODEL));
        }
        AtomicFiles.writeString(out.resolve(JSON_FILE), r.toJson());
        AtomicFiles.writeString(out.resolve(MARKDOWN), r.toMarkdown());
        if (spec.scalingDir() != null) {
            writeCharts(r, spec.scalingDir());
        }
        return r;
    }

    /** Measurement names: "train-full" for fp32 (as before bf16 existed), "train-full-bf16". */
    static String suffix(String precision) {
        return precision.equals("fp32") ? "" : "-" + precision;
    }

    private static Map<String, Object> envOf(Map<String, Object> peak) {
        Map<String, Object> e = new LinkedHashMap<>();
        for (String k : List.of("device", "cpu", "cpu_features", "mkl_cpu_dispatch", "fused_kernels", "engine", "intra_op_threads",
                "inter_op_threads", "available_processors")) {
            e.put(k, peak.get(k));
        }
        return e;
    }

    /** A new or empty directory; an earlier bench's is replaced only with overwrite. */
    /** Where {@code --random-weights} writes its model; deleted when the bench ends, since it is only noise. */
    static final String RANDOM_MODEL = "random-model";

    /**
     * The architecture of {@code dir}'s config.json with seeded random weights, written to {@code target}
     * with the directory's tokenizer files: what a model of that shape costs to train, measured without
     * its weights (a config.json and a tokenizer suffice; the tokenizer's ids must fit the vocabulary).
     */
    static Path withRandomWeights(Path dir, Path target, long seed, Consumer<String> log) {
        ModelConfig config = ModelConfig.read(dir);
        log.accept("bench: random weights for " + config.architecture() + " from " + dir.resolve(ModelConfig.FILE));
        try (NDManager manager = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.random(config, manager, seed)) {
            model.save(target);
        }
        if (!TextTokenizer.exists(dir)) {
            throw new IllegalArgumentException(dir + ": no tokenizer.json or vocab.txt. --random-weights still needs a"
                    + " tokenizer to encode the texts: copy one whose ids fit vocab_size (e.g. the packaged MiniLM's) there.");
        }
        try {
            for (String f : List.of(TextTokenizer.TOKENIZER_JSON, TextTokenizer.TOKENIZER_CONFIG, TextTokenizer.VOCAB_TXT,
                    TextTokenizer.SPECIAL_TOKENS_MAP)) {
                if (Files.isRegularFile(dir.resolve(f))) {
                    Files.copy(dir.resolve(f), target.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the tokenizer of " + dir + " to " + target + ": " + e.getMessage(), e);
        }
        return target;
    }

    private static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir + ": " + e.getMessage(), e);
        }
    }

    static void prepareOutput(Path out, boolean overwrite) {
        try {
            if (Files.exists(out) && !Files.isDirectory(out)) {
                throw new IllegalArgumentException("the output " + out + " exists and is not a directory");
            }
            Files.createDirectories(out);
            try (var s = Files.list(out)) {
                if (s.findAny().isPresent() && !overwrite) {
                    throw new IllegalArgumentException("the output directory " + out + " is not empty. Choose a new --output,"
                            + " or add --overwrite to replace an earlier bench there.");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + out + ": " + e.getMessage(), e);
        }
    }

    static Measurement measure(String name, BenchTask task, Path out, Consumer<String> log) {
        Path taskFile = out.resolve("tasks").resolve(name + ".json");
        Path resultFile = out.resolve("results").resolve(name + ".json");
        try {
            Files.createDirectories(taskFile.getParent());
            Files.createDirectories(resultFile.getParent());
            AtomicFiles.writeString(taskFile, BenchWorker.JSON.writeValueAsString(task));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + taskFile + ": " + e.getMessage(), e);
        }
        log.accept("measuring " + name + " in a child JVM");
        ChildJvm.Result r = ChildJvm.run(BenchWorker.class.getName(), List.of(taskFile.toString(), resultFile.toString()),
                out.resolve("logs"), name);
        double polled = r.peakRssBytes() / 1e6;
        if (!r.succeeded()) {
            log.accept(name + " FAILED (exit " + r.exitCode() + "); its stderr is in " + r.stderr());
            return new Measurement(name, r.pid(), r.exitCode(), r.wallSeconds(), polled, Map.of(),
                    r.stderrTail(ChildJvm.STDERR_TAIL_LINES));
        }
        try {
            Map<String, Object> result = BenchWorker.JSON.readValue(resultFile.toFile(), new TypeReference<LinkedHashMap<String, Object>>() {
            });
            log.accept(String.format(Locale.ROOT, "%s done in %.1f s (pid %d)", name, r.wallSeconds(), r.pid()));
            return new Measurement(name, r.pid(), 0, r.wallSeconds(), polled, result, null);
        } catch (IOException e) {
            return new Measurement(name, r.pid(), 0, r.wallSeconds(), polled, Map.of(),
                    "the child exited 0 but " + resultFile + " could not be read: " + e.getMessage());
        }
    }

    /** The ONNX export to compare with: the given file, or a packaged model's own, extracted into the output. */
    static Path onnxFile(Spec spec, Path out) {
        if (spec.onnxFile() != null) {
            if (!Files.isRegularFile(spec.onnxFile())) {
                throw new IllegalArgumentException("--onnx-file " + spec.onnxFile() + ": no such file");
            }
            return spec.onnxFile();
        }
        PackagedModels.PackagedModel pm = PackagedModels.find(spec.model()).orElseThrow(() -> new IllegalArgumentException(
                "--onnx needs the model's ONNX export: " + spec.model() + " is not a packaged model, so pass --onnx-file"));
        Path target = out.resolve(pm.id() + ".onnx");
        try (InputStream in = Benchmark.class.getClassLoader().getResourceAsStream(pm.onnxResource())) {
            if (in == null) {
                throw new IllegalArgumentException("the ONNX export of " + pm.id() + " (" + pm.onnxResource() + ") is not on"
                        + " the classpath; pass --onnx-file");
            }
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract " + pm.onnxResource() + " to " + target + ": " + e.getMessage(), e);
        }
    }

    static void writeJsonl(Dataset data, Path file) {
        StringBuilder sb = new StringBuilder();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        try {
            for (Example e : data.examples()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("text", e.text());
                row.put("label", e.label());
                sb.append(json.writeValueAsString(row)).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    /** scaling_length.png, scaling_batch.png and scaling_data.png from the scale-* measurements. */
    static void writeCharts(Result r, Path dir) {
        Measurement len = r.get("scale-length");
        if (len != null) {
            ScalingCharts.write(dir.resolve("scaling_length.png"), "Throughput against sequence length (batch "
                    + r.spec().batchSize() + ")", "sequence length (tokens)", "samples/s",
                    curves(len, "sequence_length", Map.of("inference", "inference_samples_per_second", "training (full)",
                            "train_samples_per_second")));
            ScalingCharts.write(dir.resolve("scaling_length_tokens.png"), "Tokens/s against sequence length (batch "
                    + r.spec().batchSize() + ")", "sequence length (tokens)", "tokens/s",
                    curves(len, "sequence_length", Map.of("inference", "inference_tokens_per_second", "training (full)",
                            "train_tokens_per_second")));
        }
        Measurement batch = r.get("scale-batch");
        if (batch != null) {
            ScalingCharts.write(dir.resolve("scaling_batch.png"), "Throughput against batch size (length "
                    + r.spec().maxLength() + ")", "batch size", "samples/s",
                    curves(batch, "batch_size", Map.of("inference", "inference_samples_per_second", "training (full)",
                            "train_samples_per_second")));
        }
        Measurement data = r.get("scale-data");
        if (data != null) {
            ScalingCharts.write(dir.resolve("scaling_data.png"), "Training time for one epoch against dataset size",
                    "training examples", "seconds", curves(data, "examples", Map.of("training (full), one epoch", "epoch_seconds")));
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, double[][]> curves(Measurement m, String x, Map<String, String> ys) {
        List<Map<String, Object>> points = (List<Map<String, Object>>) m.result().get("points");
        Map<String, double[][]> out = new LinkedHashMap<>();
        new java.util.TreeMap<>(ys).forEach((name, key) -> out.put(name, new double[][] {
            points.stream().mapToDouble(p -> num(p.get(x))).toArray(), points.stream().mapToDouble(p -> num(p.get(key))).toArray()}));
        return out;
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover copy of the ONNX export is harmless
        }
    }

    static double num(Object v) {
        return v instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    static String fmt(double v, int decimals) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%,." + decimals + "f", v);
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
