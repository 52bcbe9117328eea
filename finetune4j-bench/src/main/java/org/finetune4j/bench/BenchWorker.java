package org.finetune4j.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.finetune4j.api.ParentWatch;
import org.finetune4j.io.ProcessMemory;
import org.finetune4j.config.HeadConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.ProblemType;
import org.finetune4j.data.BatchBuilder;
import org.finetune4j.data.Batches;
import org.finetune4j.data.DataReader;
import org.finetune4j.data.Dataset;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.data.Example;
import org.finetune4j.data.Format;
import org.finetune4j.data.LabelSet;
import org.finetune4j.data.ReadOptions;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.lora.LoraConfig;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.Precision;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.train.AdamW;
import org.finetune4j.train.Strategies;
import org.finetune4j.train.Strategy;
import org.finetune4j.train.TokenizedExamples;
import org.finetune4j.train.Trainer;
import org.finetune4j.train.TrainerListener;
import org.finetune4j.train.TrainingConfig;

/**
 * The child process of {@link Benchmark}: runs one {@link BenchTask} and writes what it measured as
 * JSON, with its own peak memory, pid, device and thread count. Usage: {@code BenchWorker task.json result.json}.
 * Exit 0 on success, 2 for an error in the inputs (message on stderr), 1 for anything else.
 */
public final class BenchWorker {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    /** The learning rate of the timed steps: its value does not change their cost. */
    private static final double LR = 5e-5;

    private BenchWorker() {
    }

    public static void main(String[] args) {
        ParentWatch.start(); // ends with the bench that started it
        if (args.length != 2) {
            System.err.println("usage: BenchWorker task.json result.json");
            System.exit(2);
        }
        try {
            BenchTask task = JSON.readValue(Path.of(args[0]).toFile(), BenchTask.class);
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("kind", task.kind());
            r.put("strategy", task.strategy());
            r.putAll(run(task));
            r.put("pid", ProcessHandle.current().pid());
            r.put("peak_rss_mb", ProcessMemory.peakRssBytes() / 1e6);
            AtomicFiles.writeString(Path.of(args[1]), JSON.writeValueAsString(r));
            System.exit(0);
        } catch (IllegalArgumentException | org.finetune4j.io.CheckpointException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
    }

    static Map<String, Object> run(BenchTask t) throws Exception {
        if (t.precision() != null) {
            Precision.Choice c = Precision.use(Precision.parse(t.precision()));
            if (c.fallback() != null) {
                throw new IllegalArgumentException("--precisions " + t.precision() + ": " + c.fallback());
            }
        }
        return switch (t.kind()) {
            case "peak" -> peak(t.matrixSize());
            case "train" -> train(t);
            case "infer" -> infer(t);
            case "onnx" -> OnnxBench.run(t, batchesFor(t, load(t)));
            case "scale-length", "scale-batch", "scale-data" -> scale(t);
            default -> throw new IllegalArgumentException("unknown bench task " + t.kind());
        };
    }

    // ---- the machine ------------------------------------------------------------------------------

    /** Device, engine and threads, recorded with every measurement. */
    static Map<String, Object> environment() {
        Map<String, Object> e = new LinkedHashMap<>();
        Engine engine = Engine.getInstance();
        Device d = engine.defaultDevice();
        e.put("device", d.isGpu() ? "gpu " + d.getDeviceId() + " (" + engine.getGpuCount() + " visible)" : "cpu");
        e.put("cpu", cpuName());
        // What reduced precision could use: native bf16 dot products need AVX-512 BF16 or AMX.
        e.put("cpu_features", cpuFeatures());
        // Whether the launcher preloaded src/main/c/mkl_cpu_dispatch.c (oneMKL's kernels on an AMD CPU).
        String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
        e.put("mkl_cpu_dispatch", preload.contains("finetune4j-mkl-cpu-dispatch") ? "preloaded" : "vendor default");
        e.put("engine", engine.getEngineName() + " " + engine.getVersion());
        // Whether full fine-tuning runs its layers' hand-written backward on the fused C kernels, or why not.
        e.put("fused_kernels", org.finetune4j.nn.FusedKernels.available() ? "loaded" : org.finetune4j.nn.FusedKernels.unavailableReason());
        e.put("precision", Precision.current().label());
        e.put("intra_op_threads", ai.djl.pytorch.jni.JniUtils.getNumThreads());
        e.put("inter_op_threads", ai.djl.pytorch.jni.JniUtils.getNumInteropThreads());
        e.put("available_processors", Runtime.getRuntime().availableProcessors());
        return e;
    }

    /** The SIMD features of the first CPU that matter for matmul speed and bf16, from /proc/cpuinfo. */
    static List<String> cpuFeatures() {
        Set<String> flags = Precision.cpuFlags();
        return List.of("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16").stream().filter(flags::contains).toList();
    }

    static String cpuName() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }

    /**
     * The fp32 matmul rate of this process: an n×n by n×n product (DJL NDArray.matMul, PyTorch's sgemm)
     * repeated for about three seconds after two untimed products. The best product is the peak (the
     * machine is shared, so slower ones measure the neighbours); the median is reported beside it.
     */
    static Map<String, Object> peak(int n) {
        Map<String, Object> r = new LinkedHashMap<>(environment());
        try (NDManager m = NDManager.newBaseManager()) {
            Engine.getInstance().setRandomSeed(1);
            NDArray a = m.randomUniform(-1, 1, new Shape(n, n), DataType.FLOAT32); // (n, n)
            NDArray b = m.randomUniform(-1, 1, new Shape(n, n), DataType.FLOAT32); // (n, n)
            List<Double> seconds = new ArrayList<>();
            long end = System.nanoTime() + 3_000_000_000L;
            for (int i = 0; i < 2 || seconds.size() < 5 || System.nanoTime() < end; i++) {
                try (NDManager step = m.newSubManager()) {
                    long t0 = System.nanoTime();
                    NDArray c = a.matMul(b); // (n, n)
                    c.getFloat(0, 0); // PyTorch on CPU runs eagerly; reading one value makes the end unambiguous
                    double s = (System.nanoTime() - t0) / 1e9;
                    c.close();
                    if (i >= 2) {
                        seconds.add(s);
                    }
                }
            }
            double[] sorted = seconds.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            r.put("matrix_size", n);
            r.put("products", sorted.length);
            r.put("peak_gflops", ModelFlops.matmul(n) / sorted[0] / 1e9);
            r.put("median_gflops", ModelFlops.matmul(n) / sorted[sorted.length / 2] / 1e9);
        }
        return r;
    }

    // ---- data and model ---------------------------------------------------------------------------

    static Dataset load(BenchTask t) {
        return DataReader.read(Path.of(t.dataFile()), ReadOptions.of("text", "label").withFormat(Format.JSONL));
    }

    /** A pre-trained encoder with a new classification head, the strategy applied: what train builds. */
    record Built(TransformerModel model, List<Param> trainable, TextTokenizer tokenizer) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
            tokenizer.close();
        }
    }

    static Built build(BenchTask t, NDManager manager, String strategy, int maxLength) {
        Path dir = Path.of(t.modelDir());
        ModelConfig base = ModelConfig.read(dir);
        HeadConfig head = HeadConfig.standard(base.encoder());
        TransformerModel.Loaded loaded = TransformerModel.fromPretrained(dir, manager,
                c -> c.withClassifier(t.labels(), ProblemType.SINGLE_LABEL, head), true, t.seed());
        TransformerModel model = loaded.model();
        Set<String> missing = new LinkedHashSet<>(loaded.report().missing());
        TrainingConfig cfg = TrainingConfig.builder().strategy(strategy).frozenLayers(t.frozenLayers()).seed(t.seed()).build();
        LoraConfig lora = cfg.strategy() != Strategy.LORA ? null
                : LoraConfig.of(t.loraR(), t.loraAlpha(), LoraConfig.DEFAULTS.loraDropout(), t.loraTargets());
        List<Param> trainable = Strategies.prepare(model, cfg, lora, missing).trainable(); // as train prepares it
        return new Built(model, trainable, TextTokenizer.load(dir, maxLength));
    }

    static EncodedDataset encode(Dataset data, TextTokenizer tokenizer, List<String> labels) {
        return EncodedDataset.encode(data, tokenizer, new LabelSet(labels));
    }

    // ---- training ---------------------------------------------------------------------------------

    /** Totals over the timed steps of a training loop. */
    /**
     * @param start real tokens per second over the first 20 steps (untimed ones included), from the
     *     process's first step on; NaN with fewer steps
     * @param steady real tokens per second over steps 100 to 119 (counted from the first); NaN with fewer
     */
    record Timing(int steps, long samples, long realTokens, long paddedTokens, double forward, double backward,
            double optimizer, double usefulFlops, double executedFlops, double start, double steady) {
        double seconds() {
            return forward + backward + optimizer;
        }

        Map<String, Object> toMap() {
            Map<String, Object> r = new LinkedHashMap<>();
            double s = seconds();
            r.put("timed_steps", steps);
            r.put("samples", samples);
            r.put("seconds", s);
            r.put("samples_per_second", samples / s);
            r.put("real_tokens_per_second", realTokens / s);
            r.put("padded_tokens_per_second", paddedTokens / s);
            r.put("padding_fraction", 1 - (double) realTokens / paddedTokens);
            r.put("forward_ms_per_step", 1000 * forward / steps);
            r.put("backward_ms_per_step", 1000 * backward / steps);
            r.put("optimizer_ms_per_step", 1000 * optimizer / steps);
            r.put("model_gflops_per_second", usefulFlops / s / 1e9);
            r.put("executed_gflops_per_second", executedFlops / s / 1e9);
            if (!Double.isNaN(start)) {
                r.put("first_20_steps_tokens_per_second", start);
            }
            if (!Double.isNaN(steady)) {
                r.put("steps_100_to_119_tokens_per_second", steady);
            }
            return r;
        }
    }

    /**
     * Where a worker writes its PyTorch profile: {@code -Dfinetune4j.profile=DIR/trace.json} becomes
     * {@code DIR/trace-WHAT.json}, so the workers of one bench do not overwrite each other's traces;
     * null without the property.
     */
    static String profileFile(String what) {
        String p = System.getProperty("finetune4j.profile");
        if (p == null) {
            return null;
        }
        int slash = p.lastIndexOf('/');
        int dot = p.lastIndexOf('.');
        return dot > slash + 1 ? p.substring(0, dot) + "-" + what + p.substring(dot) : p + "-" + what;
    }

    static Timing trainSteps(Built b, EncodedDataset data, List<int[]> plan, int warmup, int[] multiplierLayers, ModelFlops flops,
            NDManager manager, long seed) {
        return trainSteps(b, data, plan, warmup, multiplierLayers, flops, manager, seed, null);
    }

    /**
     * Times {@link Trainer#step} itself, the step {@code train} runs, one batch a step, without logging,
     * evaluation or checkpoints: the clocks around forward and loss, backward, and clip plus update are
     * the step's own ({@link Trainer.StepStats}). PyTorch on CPU runs each op when it is called, and the
     * loss is read back before the backward starts, so each clock measures its own part. A non-finite
     * loss stops the bench as it stops a run. With {@code profile}, a PyTorch profile (Chrome trace) of
     * the timed steps goes to that file.
     */
    static Timing trainSteps(Built b, EncodedDataset data, List<int[]> plan, int warmup, int[] multiplierLayers, ModelFlops flops,
            NDManager manager, long seed, String profile) {
        // transformers' defaults (AdamW, no weight decay, clipping at 1.0) at a constant learning rate.
        TrainingConfig cfg = TrainingConfig.builder().learningRate(LR).weightDecay(0.0).lrSchedulerType("constant")
                .epochs(1).batchSize(plan.get(0).length).seed(seed).build();
        Trainer.Setup setup = new Trainer.Setup(cfg, b.trainable(), null, new TokenizedExamples(b.model(), data), epoch -> plan,
                null, false, null, null, null, null, TrainerListener.NONE);
        double fwd = 0;
        double bwd = 0;
        double opt = 0;
        long samples = 0;
        long real = 0;
        long padded = 0;
        double useful = 0;
        double executed = 0;
        int timed = 0;
        double[] stepSeconds = new double[plan.size()];
        long[] stepTokens = new long[plan.size()];
        try (Trainer trainer = new Trainer(setup, manager)) {
            for (int s = 0; s < plan.size(); s++) {
                int[] idx = plan.get(s);
                if (profile != null && s == warmup) {
                    JniUtils.startProfile(false, Boolean.getBoolean("finetune4j.profileShapes"), false);
                }
                Trainer.StepStats st = trainer.step(List.of(idx), 0, s);
                stepSeconds[s] = (st.forwardNanos() + st.backwardNanos() + st.optimizerNanos()) / 1e9;
                stepTokens[s] = st.realTokens();
                if (s < warmup) {
                    continue;
                }
                timed++;
                fwd += st.forwardNanos() / 1e9;
                bwd += st.backwardNanos() / 1e9;
                opt += st.optimizerNanos() / 1e9;
                int longest = Arrays.stream(idx).map(data::length).max().orElse(0);
                for (int i : idx) {
                    useful += flops.training(data.length(i), multiplierLayers);
                }
                real += st.realTokens();
                padded += st.paddedTokens();
                executed += idx.length * flops.training(longest, multiplierLayers);
                samples += st.samples();
            }
        }
        if (profile != null) {
            JniUtils.stopProfile(profile);
        }
        return new Timing(timed, samples, real, padded, fwd, bwd, opt, useful, executed, tokensPerSecond(stepSeconds, stepTokens, 0, 20),
                tokensPerSecond(stepSeconds, stepTokens, 100, 120));
    }

    /** Real tokens per second over steps [from, to) of a run, or NaN when it took fewer steps. */
    static double tokensPerSecond(double[] seconds, long[] tokens, int from, int to) {
        if (seconds.length < to) {
            return Double.NaN;
        }
        double s = 0;
        long n = 0;
        for (int i = from; i < to; i++) {
            s += seconds[i];
            n += tokens[i];
        }
        return n / s;
    }

    /** Batches for {@code total} steps of length-grouped epochs, as train plans them. */
    static List<int[]> plan(int[] lengths, int batchSize, long seed, int total) {
        List<int[]> out = new ArrayList<>();
        for (int epoch = 0; out.size() < total; epoch++) {
            for (int[] b : Batches.plan(lengths, batchSize, Batches.Order.LENGTH_GROUPED, seed, epoch)) {
                if (out.size() < total) {
                    out.add(b);
                }
            }
        }
        return out;
    }

    static Map<String, Object> train(BenchTask t) {
        Map<String, Object> r = new LinkedHashMap<>(environment());
        Dataset data = load(t);
        try (NDManager manager = NDManager.newBaseManager(); Built b = build(t, manager, t.strategy(), t.maxLength())) {
            EncodedDataset enc = encode(data, b.tokenizer(), t.labels());
            ModelFlops flops = ModelFlops.of(b.model().config().encoder());
            int[] mult = flops.multipliers(t.strategy(), t.frozenLayers());
            List<int[]> plan = plan(enc.lengths(), t.batchSize(), t.seed(), t.untimedSteps() + t.steps());
            Timing timing = trainSteps(b, enc, plan, t.untimedSteps(), mult, flops, manager, t.seed(),
                    profileFile("train-" + t.strategy() + (t.precision() == null ? "" : "-" + t.precision())));
            r.put("batch_size", t.batchSize());
            r.put("max_length", t.maxLength());
            r.put("untimed_steps", t.untimedSteps());
            r.put("trainable_params", b.trainable().stream().mapToLong(Param::numel).sum());
            r.put("total_params", b.model().parameters().count());
            r.put("flops_multipliers", mult);
            r.putAll(timing.toMap());
        }
        return r;
    }

    // ---- inference --------------------------------------------------------------------------------

    /** The same examples for our engine and ONNX Runtime: per batch size, the first examples in file order. */
    static Map<Integer, List<int[]>> batchesFor(BenchTask t, Dataset data) {
        Map<Integer, List<int[]>> out = new LinkedHashMap<>();
        for (int bs : t.batches()) {
            int n = Math.min(data.size(), Math.max(t.samples(), 2 * bs)); // one untimed batch, at least one timed
            List<int[]> batches = new ArrayList<>();
            for (int start = 0; start + bs <= n; start += bs) {
                int[] idx = new int[bs];
                for (int j = 0; j < bs; j++) {
                    idx[j] = start + j;
                }
                batches.add(idx);
            }
            out.put(bs, batches);
        }
        return out;
    }

    /** One inference measurement: throughput over the batches after the first (untimed) one. */
    record InferenceTiming(int batchSize, long samples, long realTokens, long paddedTokens, double seconds) {
        Map<String, Object> toMap() {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("batch_size", batchSize);
            r.put("samples", samples);
            r.put("seconds", seconds);
            r.put("samples_per_second", samples / seconds);
            r.put("real_tokens_per_second", realTokens / seconds);
            r.put("padded_tokens_per_second", paddedTokens / seconds);
            r.put("padding_fraction", 1 - (double) realTokens / paddedTokens);
            return r;
        }
    }

    /** Padded (B, T) batches as plain arrays, the same for both engines. */
    interface BatchRunner {
        void run(int[] idx) throws Exception;
    }

    static InferenceTiming time(int batchSize, List<int[]> batches, int[] lengths, BatchRunner runner) throws Exception {
        return time(batchSize, batches, lengths, runner, null);
    }

    /** As above; with {@code profile}, a PyTorch profile (Chrome trace) of the timed batches goes to that file. */
    static InferenceTiming time(int batchSize, List<int[]> batches, int[] lengths, BatchRunner runner, String profile)
            throws Exception {
        runner.run(batches.get(0));
        if (profile != null) {
            JniUtils.startProfile(false, Boolean.getBoolean("finetune4j.profileShapes"), false);
        }
        long samples = 0;
        long real = 0;
        long padded = 0;
        long t0 = System.nanoTime();
        for (int i = 1; i < batches.size(); i++) {
            int[] idx = batches.get(i);
            runner.run(idx);
            int longest = 0;
            for (int j : idx) {
                real += lengths[j];
                longest = Math.max(longest, lengths[j]);
            }
            padded += (long) longest * idx.length;
            samples += idx.length;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (profile != null) {
            JniUtils.stopProfile(profile);
        }
        return new InferenceTiming(batchSize, samples, real, padded, seconds);
    }

    static Map<String, Object> infer(BenchTask t) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>(environment());
        Dataset data = load(t);
        try (NDManager manager = NDManager.newBaseManager(); Built b = build(t, manager, "full", t.maxLength())) {
            EncodedDataset enc = encode(data, b.tokenizer(), t.labels());
            BatchBuilder builder = new BatchBuilder(b.model().config().encoder().padTokenId());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (Map.Entry<Integer, List<int[]>> e : batchesFor(t, data).entrySet()) {
                InferenceTiming it = time(e.getKey(), e.getValue(), enc.lengths(), idx -> {
                    try (NDManager m = manager.newSubManager()) {
                        EncoderInput in = builder.toInput(m, enc, idx);
                        b.model().logits(in, false).toFloatArray(); // (B, C)
                    }
                }, profileFile("infer-" + e.getKey() + (t.precision() == null ? "" : "-" + t.precision())));
                rows.add(it.toMap());
            }
            r.put("engine_name", "finetune4j (DJL PyTorch" + (Precision.current() == Precision.FP32 ? ")" : ", "
                    + Precision.current().label() + ")"));
            r.put("max_length", t.maxLength());
            r.put("results", rows);
        }
        return r;
    }

    // ---- scaling ----------------------------------------------------------------------------------

    /**
     * Throughput against sequence length or batch size on texts of exactly the length measured (real
     * texts joined and truncated, so there is no padding), and training time against dataset size on
     * the data itself. The full strategy; a few steps per point after one untimed step.
     */
    static Map<String, Object> scale(BenchTask t) throws Exception {
        Map<String, Object> r = new LinkedHashMap<>(environment());
        Dataset data = load(t);
        List<Map<String, Object>> points = new ArrayList<>();
        int longest = t.kind().equals("scale-length") ? t.lengths().stream().mapToInt(Integer::intValue).max().orElseThrow()
                : t.maxLength();
        try (NDManager manager = NDManager.newBaseManager(); Built b = build(t, manager, t.strategy(), longest)) {
            ModelFlops flops = ModelFlops.of(b.model().config().encoder());
            int[] mult = flops.multipliers(t.strategy(), t.frozenLayers());
            BatchBuilder builder = new BatchBuilder(b.model().config().encoder().padTokenId());
            if (t.kind().equals("scale-data")) {
                EncodedDataset enc = encode(data, b.tokenizer().withMaxLength(t.maxLength()), t.labels());
                for (int n : t.sizes()) {
                    int size = Math.min(n, enc.size());
                    int[] lengths = Arrays.copyOf(enc.lengths(), size);
                    List<int[]> plan = new ArrayList<>(Batches.plan(lengths, t.batchSize(), Batches.Order.LENGTH_GROUPED, t.seed(), 0));
                    plan.add(0, plan.get(0)); // one untimed step first
                    Timing tm = trainSteps(b, enc, plan, 1, mult, flops, manager, t.seed());
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put("examples", size);
                    p.put("epoch_seconds", tm.seconds());
                    p.put("train_samples_per_second", tm.samples() / tm.seconds());
                    points.add(p);
                }
            } else {
                boolean byLength = t.kind().equals("scale-length");
                List<Integer> xs = byLength ? t.lengths() : t.batches();
                for (int x : xs) {
                    int len = byLength ? x : t.maxLength();
                    int batch = byLength ? t.batchSize() : x;
                    EncodedDataset enc = encode(exactLength(data, len, batch * (t.steps() + 1)),
                            b.tokenizer().withMaxLength(len), t.labels());
                    List<int[]> plan = new ArrayList<>();
                    for (int s = 0; s <= t.steps(); s++) {
                        int[] idx = new int[batch];
                        for (int j = 0; j < batch; j++) {
                            idx[j] = s * batch + j;
                        }
                        plan.add(idx);
                    }
                    InferenceTiming inf = time(batch, plan, enc.lengths(), idx -> {
                        try (NDManager m = manager.newSubManager()) {
                            b.model().logits(builder.toInput(m, enc, idx), false).toFloatArray(); // (B, C)
                        }
                    });
                    Timing tr = trainSteps(b, enc, plan, 1, mult, flops, manager, t.seed());
                    Map<String, Object> p = new LinkedHashMap<>();
                    p.put(byLength ? "sequence_length" : "batch_size", x);
                    p.put("inference_samples_per_second", inf.samples() / inf.seconds());
                    p.put("inference_tokens_per_second", inf.realTokens() / inf.seconds());
                    p.put("train_samples_per_second", tr.samples() / tr.seconds());
                    p.put("train_tokens_per_second", tr.realTokens() / tr.seconds());
                    p.put("train_model_gflops_per_second", tr.usefulFlops() / tr.seconds() / 1e9);
                    points.add(p);
                }
            }
        }
        r.put("batch_size", t.batchSize());
        r.put("points", points);
        return r;
    }

    /**
     * {@code count} texts that each tokenise to at least {@code tokens} tokens: consecutive texts of the
     * data joined until long enough, so the words are real and truncation makes every length exact.
     */
    static Dataset exactLength(Dataset data, int tokens, int count) {
        List<Example> out = new ArrayList<>();
        int next = 0;
        String label = data.get(0).label();
        for (int i = 0; i < count; i++) {
            StringBuilder sb = new StringBuilder();
            // Words are at least one token each, so this many words always reach the length.
            while (sb.toString().split("\\s+").length < tokens + 2) {
                sb.append(data.get(next % data.size()).text()).append(' ');
                next++;
            }
            out.add(new Example("synthetic-" + i, sb.toString(), null, List.of(label), i + 1));
        }
        return data.withExamples(out);
    }
}
