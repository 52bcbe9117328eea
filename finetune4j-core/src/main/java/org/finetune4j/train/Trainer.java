package org.finetune4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.finetune4j.io.AtomicFiles;
import org.finetune4j.io.CheckpointException;
import org.finetune4j.io.HostTensor;
import org.finetune4j.io.SafeTensors;
import org.finetune4j.nn.EmbeddingGradients;
import org.finetune4j.nn.Param;

/**
 * The training loop, written out so it can be read top to bottom: for each epoch, for each batch,
 * forward, loss, backward; every {@code gradient_accumulation_steps} batches, clip and update; log,
 * evaluate, checkpoint and decide on early stopping at the configured points. Data order and dropout
 * masks are functions of (seed, epoch, batch), so a run resumed from a checkpoint continues exactly
 * as the uninterrupted run would have.
 */
public final class Trainer {
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String TRAINING_ARGS_FILE = "training_args.json";
    public static final String METRICS_FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * Every this many optimizer steps, free heap pages go back to the OS (malloc_trim). The launcher turns
     * glibc's own trimming off so steps do not churn mmap; without it, memory freed between differently
     * shaped batches stayed resident and the resident set crept up through the first epochs (BENCHMARKS.md,
     * "soak"). One trim re-faults a step's worth of pages at most: well under 1 % of 50 steps.
     */
    static final int TRIM_INTERVAL_STEPS = 50;

    /** Computes evaluation metrics (without loss) from logits; keys carry the given prefix. */
    public interface MetricsFunction {
        Map<String, Double> compute(float[][] logits, Examples data, String prefix);
    }

    /** Everything a run needs. {@code validation} may be null (then no evaluation happens). */
    public record Setup(
            TrainingConfig config,
            List<Param> trainable,
            Examples train,
            IntFunction<List<int[]>> planForEpoch, // batches of train indices for an epoch; pure in (seed, epoch)
            Examples validation,
            boolean multiLabel,
            float[] classWeights, // null for none
            MetricsFunction metrics,
            CheckpointFormat checkpoints,
            Path outputDir,
            TrainerListener listener) {
    }

    /** What a run did. */
    public record Result(long globalStep, double epochs, boolean stoppedEarly, Path bestCheckpoint, Double bestMetric,
            Map<String, Object> lastEvaluation, double trainSeconds, long trainSamples, long realTokens, long paddedTokens,
            List<Map<String, Object>> logHistory) {
        public double samplesPerSecond() {
            return trainSamples / Math.max(trainSeconds, 1e-9);
        }
    }

    private final Setup s;
    private final TrainingConfig cfg;
    private final NDManager root;
    private final TrainerListener.Control control = new TrainerListener.Control();
    private final List<Map<String, Object>> logHistory = new ArrayList<>();
    private BufferedWriter metricsLog;
    private final EarlyStopping early;
    private String bestCheckpoint;
    private Path lastCheckpoint;
    private Map<String, Object> lastEvaluation;
    private boolean earlyStopped;

    public Trainer(Setup setup, NDManager root) {
        this.s = setup;
        this.cfg = setup.config();
        this.root = root;
        this.early = new EarlyStopping(cfg.greaterIsBetter(), cfg.earlyStoppingPatience(), cfg.earlyStoppingThreshold());
    }

    /** Trains from scratch, or from {@code resumeFrom} (a checkpoint directory written by this class). */
    public Result train(Path resumeFrom) {
        List<int[]> firstPlan = s.planForEpoch().apply(0);
        int batchesPerEpoch = firstPlan.size();
        if (batchesPerEpoch == 0) {
            throw new IllegalArgumentException("the training set is empty");
        }
        int accum = cfg.gradientAccumulationSteps();
        long updatesPerEpoch = (batchesPerEpoch + accum - 1) / accum;
        long totalSteps = updatesPerEpoch * cfg.numTrainEpochs();
        long warmup = cfg.warmupSteps() > 0 ? cfg.warmupSteps() : LrSchedule.warmupFromRatio(cfg.warmupRatio(), totalSteps);
        LrSchedule schedule = new LrSchedule(cfg.lrSchedulerType(), warmup, totalSteps);
        String bestKey = cfg.metricForBestModel().startsWith("eval_") ? cfg.metricForBestModel() : "eval_" + cfg.metricForBestModel();

        long globalStep = 0;
        int startEpoch = 0;
        int startBatch = 0;
        try (AdamW optimizer = new AdamW(s.trainable(), AdamW::decaysByDefault,
                new AdamW.Settings(cfg.adamBeta1(), cfg.adamBeta2(), cfg.adamEpsilon(), cfg.weightDecay()), root)) {
            if (resumeFrom != null) {
                TrainerState st = resume(resumeFrom, optimizer);
                globalStep = st.globalStep();
                startEpoch = st.epochIndex();
                startBatch = st.batchesDoneInEpoch();
            }
            openMetricsLog(resumeFrom != null);
            long trainable = s.trainable().stream().mapToLong(Param::numel).sum();
            s.listener().onTrainBegin(totalSteps, trainable, -1);

            long samples = 0;
            long realTokens = 0;
            long paddedTokens = 0;
            double lossSinceLog = 0;
            int updatesSinceLog = 0;
            double groupLoss = 0;
            long started = System.nanoTime();
            boolean stop = false;

            for (int epoch = startEpoch; epoch < cfg.numTrainEpochs() && !stop; epoch++) {
                List<int[]> plan = epoch == 0 ? firstPlan : s.planForEpoch().apply(epoch);
                for (int b = epoch == startEpoch ? startBatch : 0; b < plan.size() && !stop; b++) {
                    int[] idx = plan.get(b);
                    int groupStart = b / accum * accum;
                    int groupSize = Math.min(accum, plan.size() - groupStart);

                    // 1. Forward, loss and backward for one micro-batch, in its own native-memory scope.
                    try (NDManager step = root.newSubManager()) {
                        EmbeddingGradients rowGradients = new EmbeddingGradients();
                        // Dropout masks depend only on (seed, epoch, batch): resuming reproduces them.
                        org.finetune4j.nn.Functional.seed(mix(cfg.seed(), epoch, b));
                        float loss;
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray logits = s.train().logits(step, idx, true, rowGradients); // (B, C)
                            NDArray labels = s.train().labels(step, idx);
                            NDArray l = s.multiLabel() ? Losses.binaryCrossEntropyWithLogits(logits, labels)
                                    : Losses.crossEntropy(logits, labels, s.classWeights(), cfg.labelSmoothingFactor());
                            loss = l.getFloat();
                            if (!Float.isFinite(loss)) {
                                throw diverged(globalStep + 1, "the loss is " + loss);
                            }
                            gc.backward(l.div(groupSize));
                        }
                        rowGradients.accumulate(); // the embedding tables' gradients, row by row
                        groupLoss += loss / groupSize;
                    }
                    samples += idx.length;
                    int longest = 0;
                    for (int i : idx) {
                        realTokens += s.train().tokenCount(i);
                        longest = Math.max(longest, s.train().tokenCount(i));
                    }
                    paddedTokens += (long) longest * idx.length;
                    if (b - groupStart + 1 < groupSize) {
                        continue;
                    }

                    // 2. Update: global-norm clipping, AdamW at the scheduled learning rate.
                    double lr = cfg.learningRate() * schedule.multiplier(globalStep);
                    double gradNorm;
                    try (NDManager scratch = root.newSubManager()) {
                        gradNorm = optimizer.gradNorm(scratch);
                        if (!Double.isFinite(gradNorm)) {
                            throw diverged(globalStep + 1, "the gradient norm is " + gradNorm);
                        }
                        double clip = cfg.maxGradNorm() > 0 ? Math.min(1.0, cfg.maxGradNorm() / (gradNorm + 1e-6)) : 1.0;
                        optimizer.step(lr, clip, scratch);
                    }
                    globalStep++;
                    lossSinceLog += groupLoss;
                    updatesSinceLog++;
                    double stepLoss = groupLoss;
                    groupLoss = 0;
                    double epochProgress = epoch + (double) (b + 1) / plan.size();

                    // 3. Log, evaluate, checkpoint, early stopping.
                    boolean trimNow = globalStep % TRIM_INTERVAL_STEPS == 0;
                    if (globalStep % cfg.loggingSteps() == 0) {
                        Map<String, Object> rec = new LinkedHashMap<>();
                        rec.put("loss", round(lossSinceLog / updatesSinceLog));
                        rec.put("grad_norm", round(gradNorm));
                        rec.put("learning_rate", lr);
                        rec.put("epoch", round(epochProgress));
                        rec.put("step", globalStep);
                        // Not in transformers' log: resident memory and live native arrays, to show neither grows.
                        // rss_mb: what the steps since the last trim left resident; at a trim step also
                        // rss_trimmed_mb, what stays once free pages went back (a leak would raise this one).
                        long rss = org.finetune4j.io.ProcessMemory.rssBytes();
                        if (rss > 0) {
                            rec.put("rss_mb", Math.round(rss / 1e5) / 10.0);
                        }
                        if (trimNow) {
                            org.finetune4j.io.NativeMemory.trim();
                            trimNow = false;
                            long trimmed = org.finetune4j.io.ProcessMemory.rssBytes();
                            if (trimmed > 0) {
                                rec.put("rss_trimmed_mb", Math.round(trimmed / 1e5) / 10.0);
                            }
                        }
                        if (root instanceof ai.djl.ndarray.BaseNDManager base) {
                            rec.put("native_arrays", base.getManagedArrays().size());
                        }
                        log(rec);
                        lossSinceLog = 0;
                        updatesSinceLog = 0;
                    }
                    if (trimNow) {
                        org.finetune4j.io.NativeMemory.trim(); // a step without a log line
                    }
                    s.listener().onStep(globalStep, totalSteps, stepLoss, control);
                    boolean endOfEpoch = b == plan.size() - 1;
                    int nextEpoch = endOfEpoch ? epoch + 1 : epoch;
                    int nextBatch = endOfEpoch ? 0 : b + 1;
                    boolean evalPoint = cfg.evalStrategy().equals("steps") && globalStep % cfg.evalSteps() == 0
                            || cfg.evalStrategy().equals("epoch") && endOfEpoch;
                    if (evalPoint && s.validation() != null) {
                        stop = evaluateAndCheckpoint(globalStep, epochProgress, nextEpoch, nextBatch, bestKey, optimizer);
                    } else if (evalPoint || endOfEpoch && cfg.evalStrategy().equals("no")) {
                        // Without validation data there is nothing to evaluate, but a run can still resume.
                        writeCheckpoint("checkpoint-" + globalStep, new TrainerState(globalStep, epochProgress, nextEpoch,
                                nextBatch, null, null, 0, logHistory), optimizer);
                    }
                    if (control.stopRequested()) {
                        s.listener().onMessage("training stopped on request after step " + globalStep);
                        stop = true;
                    }
                }
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            // The optimizer state (two copies of the trainable weights) is not needed any more: free it
            // before the best model is loaded and evaluated, so that memory is reused, not added.
            optimizer.close();
            org.finetune4j.io.NativeMemory.trim();
            if (cfg.loadBestModelAtEnd() && bestCheckpoint != null && bestCheckpoint.equals("checkpoint-" + globalStep)) {
                s.listener().onMessage("the best model (" + bestKey + " = " + early.best() + ") is the last step's: nothing to load");
            } else if (cfg.loadBestModelAtEnd() && bestCheckpoint != null) {
                s.listener().onMessage("loading the best model (" + bestKey + " = " + early.best() + ") from " + bestCheckpoint);
                s.checkpoints().restore(s.outputDir().resolve(bestCheckpoint));
            }
            s.listener().onTrainEnd();
            return new Result(globalStep, (double) globalStep / updatesPerEpoch, earlyStopped,
                    bestCheckpoint == null ? null : s.outputDir().resolve(bestCheckpoint), early.best(), lastEvaluation, seconds,
                    samples, realTokens, paddedTokens, List.copyOf(logHistory));
        } finally {
            closeMetricsLog();
        }
    }

    /** Evaluates, writes a checkpoint, tracks the best; returns true when early stopping says stop. */
    private boolean evaluateAndCheckpoint(long globalStep, double epoch, int nextEpoch, int nextBatch, String bestKey,
            AdamW optimizer) {
        Map<String, Object> rec = new LinkedHashMap<>(evaluate(s.validation(), "eval_"));
        org.finetune4j.io.NativeMemory.trim(); // the evaluation's larger batches: not kept resident
        rec.put("epoch", round(epoch));
        rec.put("step", globalStep);
        log(rec);
        lastEvaluation = rec;
        Object v = rec.get(bestKey);
        if (!(v instanceof Number)) {
            throw new IllegalArgumentException("metric_for_best_model \"" + cfg.metricForBestModel() + "\" is not among the"
                    + " evaluation metrics " + rec.keySet() + "; choose one of them");
        }
        EarlyStopping.Decision d = early.update(((Number) v).doubleValue());
        String name = "checkpoint-" + globalStep;
        if (d.newBest()) {
            bestCheckpoint = name;
        }
        writeCheckpoint(name, new TrainerState(globalStep, epoch, nextEpoch, nextBatch, early.best(), bestCheckpoint,
                d.evalsWithoutImprovement(), logHistory), optimizer);
        if (d.stop()) {
            earlyStopped = true;
            s.listener().onMessage("early stopping: " + bestKey + " has not improved by more than "
                    + cfg.earlyStoppingThreshold() + " for " + cfg.earlyStoppingPatience() + " evaluations (best "
                    + early.best() + ")");
            return true;
        }
        return false;
    }

    /** Loss and metrics of the current model on {@code data}, keys prefixed. */
    public Map<String, Object> evaluate(Examples data, String prefix) {
        float[][] logits = Evaluation.logits(data, cfg.perDeviceEvalBatchSize(), root, s.listener()::onEvaluationProgress);
        Map<String, Object> rec = new LinkedHashMap<>();
        double loss = s.multiLabel() ? Evaluation.binaryCrossEntropy(logits, data.goldSets())
                : Evaluation.crossEntropy(logits, data.goldIds(), s.classWeights(), cfg.labelSmoothingFactor());
        rec.put(prefix + "loss", round(loss));
        s.metrics().compute(logits, data, prefix).forEach((k, val) -> rec.put(k, round(val)));
        return rec;
    }

    // ---------------------------------------------------------------------------------------------
    // Checkpoints

    private void writeCheckpoint(String name, TrainerState state, AdamW optimizer) {
        Path target = s.outputDir().resolve(name);
        Path tmp = s.outputDir().resolve("." + name + ".tmp");
        try {
            deleteRecursively(tmp);
            Files.createDirectories(tmp);
            s.checkpoints().save(tmp);
            SafeTensors.write(tmp.resolve(OPTIMIZER_FILE), optimizer.stateViews(), Map.of("step", Long.toString(optimizer.stepCount())));
            AtomicFiles.writeString(tmp.resolve(TrainerState.FILE), state.toJson());
            AtomicFiles.writeString(tmp.resolve(TRAINING_ARGS_FILE), cfg.toJson());
            deleteRecursively(target);
            AtomicFiles.moveAtomically(tmp, target);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write checkpoint " + target + ": " + e.getMessage(), e);
        }
        lastCheckpoint = target;
        s.listener().onCheckpoint(target);
        rotateCheckpoints();
    }

    /** Keeps at most save_total_limit checkpoints, never deleting the best or the latest. */
    private void rotateCheckpoints() {
        Integer limit = cfg.saveTotalLimit();
        if (limit == null) {
            return;
        }
        List<Path> all = checkpoints(s.outputDir());
        int excess = all.size() - limit;
        for (Path p : all) {
            if (excess <= 0) {
                break;
            }
            String n = p.getFileName().toString();
            if (n.equals(bestCheckpoint) || p.equals(lastCheckpoint)) {
                continue;
            }
            deleteRecursively(p);
            excess--;
        }
    }

    /** checkpoint-N directories of a run, oldest first. */
    public static List<Path> checkpoints(Path outputDir) {
        if (!Files.isDirectory(outputDir)) {
            return List.of();
        }
        try (var st = Files.list(outputDir)) {
            return st.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+") && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))))
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private TrainerState resume(Path dir, AdamW optimizer) {
        Path stateFile = dir.resolve(TrainerState.FILE);
        if (!Files.isRegularFile(stateFile)) {
            throw new CheckpointException(dir + ": not a training checkpoint (no " + TrainerState.FILE + ")."
                    + " Pass a checkpoint-N directory of an earlier run.");
        }
        try {
            TrainerState st = TrainerState.fromJson(Files.readString(stateFile), stateFile.toString());
            TrainingConfig saved = TrainingConfig.fromJson(Files.readString(dir.resolve(TRAINING_ARGS_FILE)));
            if (!saved.equals(cfg)) {
                s.listener().onMessage("note: the training settings differ from those of " + dir
                        + "; the run continues with the new ones, so it will not match an uninterrupted run");
            }
            s.checkpoints().restore(dir);
            try (SafeTensors opt = SafeTensors.open(dir.resolve(OPTIMIZER_FILE))) {
                Map<String, HostTensor> state = opt.readAll();
                optimizer.restore(state, Long.parseLong(opt.metadata().getOrDefault("step", Long.toString(st.globalStep()))));
            }
            early.restore(st.bestMetric(), st.evalsWithoutImprovement());
            bestCheckpoint = st.bestModelCheckpoint();
            logHistory.addAll(st.logHistory());
            lastCheckpoint = dir;
            s.listener().onMessage("resuming from " + dir + " at step " + st.globalStep() + " (epoch " + st.epoch() + ")");
            return st;
        } catch (IOException e) {
            throw new UncheckedIOException("could not read checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }

    private TrainingDivergedException diverged(long step, String what) {
        return new TrainingDivergedException(step, what, lastCheckpoint);
    }

    // ---------------------------------------------------------------------------------------------
    // Logging

    private void openMetricsLog(boolean resumed) {
        Path file = s.outputDir().resolve(METRICS_FILE);
        try {
            Files.createDirectories(s.outputDir());
            // On resume the log restarts from the checkpoint's history, so it never holds steps twice.
            metricsLog = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            if (resumed) {
                for (Map<String, Object> rec : logHistory) {
                    metricsLog.write(JSON.writeValueAsString(rec));
                    metricsLog.newLine();
                }
                metricsLog.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private void log(Map<String, Object> rec) {
        logHistory.add(rec);
        s.listener().onLog(rec);
        try {
            metricsLog.write(JSON.writeValueAsString(rec));
            metricsLog.newLine();
            metricsLog.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot append to " + METRICS_FILE + ": " + e.getMessage(), e);
        }
    }

    private void closeMetricsLog() {
        if (metricsLog != null) {
            try {
                metricsLog.close();
            } catch (IOException ignored) {
                // the log was flushed after every record
            }
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** A well-mixed 32-bit seed from (seed, epoch, batch) (splitmix64 finaliser). */
    static long mix(long seed, int epoch, int batch) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + batch * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & 0x7fffffffL;
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }

    static void deleteRecursively(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (var walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not delete " + p + ": " + e.getMessage(), e);
        }
    }
}
