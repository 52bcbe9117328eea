package org.finetune4j.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import java.util.function.ToDoubleFunction;
import org.finetune4j.io.NativeMemory;
import org.finetune4j.nn.StepGradients;
import org.finetune4j.nn.Functional;
import org.finetune4j.nn.Param;

/**
 * The training loop, written so it can be read top to bottom. {@link #step} is one optimizer update:
 * forward, loss and backward for each micro-batch of an accumulation group, then global-norm clipping and
 * AdamW (and the weight average, {@link Ema}). {@link #train} runs the epochs: step, log, evaluate, checkpoint, stop. Data order and dropout
 * masks are functions of (seed, epoch, batch), so a run resumed from a checkpoint continues exactly as
 * the uninterrupted run would have. Checkpoints and the metrics log are {@link Checkpoints} and
 * {@link MetricsLog}; memory probes are a listener ({@link MemoryProbe}).
 */
public final class Trainer implements AutoCloseable {
    public static final String OPTIMIZER_FILE = Checkpoints.OPTIMIZER_FILE;
    public static final String TRAINING_ARGS_FILE = Checkpoints.TRAINING_ARGS_FILE;
    public static final String METRICS_FILE = MetricsLog.FILE;

    /** Computes evaluation metrics (without loss) from logits; keys carry the given prefix. */
    public interface MetricsFunction {
        Map<String, Double> compute(float[][] logits, Examples data, String prefix);
    }

    /**
     * Everything a run needs. {@code validation} may be null (then no evaluation happens); {@link #step}
     * alone (the bench) needs neither metrics, checkpoints nor an output directory; {@code layers} is needed
     * only with a layerwise_lr_decay below 1.
     */
    public record Setup(
            TrainingConfig config,
            List<Param> trainable,
            LayerwiseLr layers, // the model's layers, for layerwise_lr_decay; null: every parameter at the base rate
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

    /** What one optimizer step did; the three times add up to the step's. */
    public record StepStats(long globalStep, double loss, double gradNorm, double learningRate, int samples,
            long realTokens, long paddedTokens, long forwardNanos, long backwardNanos, long optimizerNanos) {
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
    private final AdamW optimizer;
    private final Ema ema;
    private final LrSchedule schedule;
    private final long updatesPerEpoch;
    private final long totalSteps;
    private final long loggingSteps;
    private final String bestKey;
    private final EarlyStopping early;
    private final TrainerListener.Control control = new TrainerListener.Control();
    private final List<Map<String, Object>> logHistory = new ArrayList<>();
    private Checkpoints checkpoints;
    private MetricsLog metricsLog;
    private long globalStep;
    private Map<String, Object> lastEvaluation;
    private boolean earlyStopped;

    public Trainer(Setup setup, NDManager root) {
        this.s = setup;
        this.cfg = setup.config();
        this.root = root;
        int batchesPerEpoch = setup.planForEpoch().apply(0).size();
        if (batchesPerEpoch == 0) {
            throw new IllegalArgumentException("the training set is empty");
        }
        int accum = cfg.gradientAccumulationSteps();
        this.updatesPerEpoch = (batchesPerEpoch + accum - 1) / accum;
        this.totalSteps = updatesPerEpoch * cfg.numTrainEpochs();
        this.loggingSteps = cfg.loggingStepsFor(totalSteps);
        long warmup = cfg.warmupSteps() > 0 ? cfg.warmupSteps() : LrSchedule.warmupFromRatio(cfg.warmupRatio(), totalSteps);
        this.schedule = new LrSchedule(cfg.lrSchedulerType(), warmup, totalSteps);
        this.bestKey = cfg.metricForBestModel().startsWith("eval_") ? cfg.metricForBestModel() : "eval_" + cfg.metricForBestModel();
        this.early = new EarlyStopping(cfg.greaterIsBetter(), cfg.earlyStoppingPatience(), cfg.earlyStoppingThreshold());
        this.optimizer = new AdamW(setup.trainable(), AdamW::decaysByDefault, lrScales(setup),
                new AdamW.Settings(cfg.adamBeta1(), cfg.adamBeta2(), cfg.adamEpsilon(), cfg.weightDecay()), root);
        this.ema = new Ema(setup.trainable(), cfg.emaDecay(), root);
    }

    /** Each parameter's learning rate over the scheduled one: 1, or layer-wise decay's (LayerwiseLr). */
    private static ToDoubleFunction<String> lrScales(Setup setup) {
        double gamma = setup.config().layerwiseLrDecay();
        if (gamma == 1.0) {
            return name -> 1.0;
        }
        if (setup.layers() == null) {
            throw new IllegalArgumentException("layerwise_lr_decay " + gamma + " needs the model's layers: give the"
                    + " Trainer.Setup a LayerwiseLr.of(model)");
        }
        return name -> setup.layers().scale(name, gamma);
    }

    /** Trains from scratch, or from {@code resumeFrom} (a checkpoint directory written by this class). */
    public Result train(Path resumeFrom) {
        checkpoints = new Checkpoints(s.outputDir(), s.checkpoints(), cfg, optimizer, ema, s.listener());
        checkpoints.removeStale();
        TrainerState start = resumeFrom == null ? null : checkpoints.resume(resumeFrom, early, logHistory);
        globalStep = start == null ? 0 : start.globalStep();
        int startEpoch = start == null ? 0 : start.epochIndex();
        int startBatch = start == null ? 0 : start.batchesDoneInEpoch();
        try (MetricsLog log = MetricsLog.open(s.outputDir(), start == null ? List.of() : logHistory)) {
            metricsLog = log;
            s.listener().onTrainBegin(totalSteps, s.trainable().stream().mapToLong(Param::numel).sum(), -1);
            long samples = 0, realTokens = 0, paddedTokens = 0;
            double lossSinceLog = 0;
            int stepsSinceLog = 0;
            boolean stop = false;
            long started = System.nanoTime();
            for (int epoch = startEpoch; epoch < cfg.numTrainEpochs() && !stop; epoch++) {
                List<int[]> plan = s.planForEpoch().apply(epoch);
                int accum = cfg.gradientAccumulationSteps();
                for (int b = epoch == startEpoch ? startBatch : 0; b < plan.size() && !stop; b = nextGroup(b, accum)) {
                    StepStats st = step(plan.subList(b, Math.min(plan.size(), nextGroup(b, accum))), epoch, b);
                    samples += st.samples();
                    realTokens += st.realTokens();
                    paddedTokens += st.paddedTokens();
                    lossSinceLog += st.loss();
                    stepsSinceLog++;
                    int nextBatch = nextGroup(b, accum);
                    double epochProgress = epoch + (double) Math.min(nextBatch, plan.size()) / plan.size();
                    if (globalStep % loggingSteps == 0) {
                        log(trainingLogRecord(lossSinceLog / stepsSinceLog, st, epochProgress));
                        lossSinceLog = 0;
                        stepsSinceLog = 0;
                    }
                    s.listener().onStep(globalStep, totalSteps, st.loss(), control);
                    boolean endOfEpoch = nextBatch >= plan.size();
                    TrainerState next = state(epochProgress, endOfEpoch ? epoch + 1 : epoch, endOfEpoch ? 0 : nextBatch);
                    if (evaluationPoint(endOfEpoch) || endOfEpoch && cfg.evalStrategy().equals("no")) {
                        ema.useAverage(); // evaluated and saved: the weight average (with --ema-decay)
                        if (evaluationPoint(endOfEpoch) && s.validation() != null) {
                            stop = evaluateAndCheckpoint(next);
                        } else {
                            checkpoints.write(next); // nothing to evaluate, but the run can still resume
                        }
                        ema.useTraining();
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
            ema.useAverage(); // the run's model is the average; the training weights are freed
            ema.close();
            NativeMemory.trim();
            checkpoints.loadBest(globalStep, bestKey, early.best());
            s.listener().onTrainEnd();
            return new Result(globalStep, (double) globalStep / updatesPerEpoch, earlyStopped, checkpoints.bestPath(),
                    early.best(), lastEvaluation, seconds, samples, realTokens, paddedTokens, List.copyOf(logHistory));
        } finally {
            close();
        }
    }

    /**
     * One optimizer update: forward, loss and backward for each micro-batch of {@code batches} (the
     * loss divided by their number, as gradient accumulation does), then global-norm clipping and AdamW
     * at the scheduled learning rate; the weight average (EMA) then takes the new weights in. {@code firstBatch} is the index in the epoch of the first micro-batch:
     * with the seed and the epoch it fixes the dropout masks.
     */
    public StepStats step(List<int[]> batches, int epoch, int firstBatch) {
        double loss = 0;
        int samples = 0;
        long realTokens = 0, paddedTokens = 0, forward = 0, backward = 0;
        for (int i = 0; i < batches.size(); i++) {
            int[] idx = batches.get(i);
            try (NDManager step = root.newSubManager()) {
                StepGradients rowGradients = new StepGradients(); // the embedding tables' rows this step looks up
                Functional.seed(mix(cfg.seed(), epoch, firstBatch + i)); // dropout masks: a function of (seed, epoch, batch)
                long t0 = System.nanoTime();
                long t1;
                float l;
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = s.train().logits(step, idx, true, rowGradients); // (B, C)
                    NDArray labels = s.train().labels(step, idx); // (B) or (B, C)
                    NDArray lossArray = s.multiLabel() ? Losses.binaryCrossEntropyWithLogits(logits, labels)
                            : Losses.crossEntropy(logits, labels, s.classWeights(), cfg.labelSmoothingFactor()); // ()
                    l = lossArray.getFloat();
                    if (!Float.isFinite(l)) {
                        throw diverged("the loss is " + l);
                    }
                    t1 = System.nanoTime();
                    gc.backward(lossArray.div(batches.size()));
                }
                rowGradients.accumulate(); // their gradients, added row by row into the tables' RowGradients
                forward += t1 - t0;
                backward += System.nanoTime() - t1;
                loss += l / batches.size();
            }
            int longest = 0;
            for (int j : idx) {
                realTokens += s.train().tokenCount(j);
                longest = Math.max(longest, s.train().tokenCount(j));
            }
            paddedTokens += (long) longest * idx.length;
            samples += idx.length;
        }
        long t2 = System.nanoTime();
        double lr = cfg.learningRate() * schedule.multiplier(globalStep);
        double gradNorm;
        try (NDManager scratch = root.newSubManager()) {
            gradNorm = optimizer.gradNorm(scratch);
            if (!Double.isFinite(gradNorm)) {
                throw diverged("the gradient norm is " + gradNorm);
            }
            double clip = cfg.maxGradNorm() > 0 ? Math.min(1.0, cfg.maxGradNorm() / (gradNorm + 1e-6)) : 1.0;
            optimizer.step(lr, clip, scratch);
        }
        ema.update();
        globalStep++;
        return new StepStats(globalStep, loss, gradNorm, lr, samples, realTokens, paddedTokens, forward, backward,
                System.nanoTime() - t2);
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

    /** Evaluates, writes a checkpoint, tracks the best; returns true when early stopping says stop. */
    private boolean evaluateAndCheckpoint(TrainerState next) {
        Map<String, Object> rec = new LinkedHashMap<>(evaluate(s.validation(), "eval_"));
        rec.put("epoch", round(next.epoch()));
        rec.put("step", globalStep);
        log(rec);
        lastEvaluation = rec;
        if (!(rec.get(bestKey) instanceof Number value)) {
            throw new IllegalArgumentException("metric_for_best_model \"" + cfg.metricForBestModel() + "\" is not among the"
                    + " evaluation metrics " + rec.keySet() + "; choose one of them");
        }
        EarlyStopping.Decision d = early.update(value.doubleValue());
        if (d.newBest()) {
            checkpoints.markBest(globalStep);
        }
        checkpoints.write(state(next.epoch(), next.epochIndex(), next.batchesDoneInEpoch()));
        if (d.stop()) {
            earlyStopped = true;
            s.listener().onMessage("early stopping: " + bestKey + " has not improved by more than "
                    + cfg.earlyStoppingThreshold() + " for " + cfg.earlyStoppingPatience() + " evaluations (best "
                    + early.best() + ")");
        }
        return d.stop();
    }

    private boolean evaluationPoint(boolean endOfEpoch) {
        return cfg.evalStrategy().equals("steps") && globalStep % cfg.evalSteps() == 0
                || cfg.evalStrategy().equals("epoch") && endOfEpoch;
    }

    /** transformers' training log line: loss (mean since the last line), grad_norm, learning_rate, epoch, step. */
    private Map<String, Object> trainingLogRecord(double meanLoss, StepStats st, double epoch) {
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("loss", round(meanLoss));
        rec.put("grad_norm", round(st.gradNorm()));
        rec.put("learning_rate", st.learningRate());
        rec.put("epoch", round(epoch));
        rec.put("step", globalStep);
        return rec;
    }

    private TrainerState state(double epoch, int epochIndex, int batchesDone) {
        return new TrainerState(globalStep, epoch, epochIndex, batchesDone, early.best(), checkpoints.bestName(),
                early.evalsWithoutImprovement(), logHistory);
    }

    /** Listeners see a record before it is written, so a probe may add its keys (as transformers' on_log may). */
    private void log(Map<String, Object> rec) {
        logHistory.add(rec);
        s.listener().onLog(rec);
        metricsLog.append(rec);
    }

    private TrainingDivergedException diverged(String what) {
        return new TrainingDivergedException(globalStep + 1, what, checkpoints == null ? null : checkpoints.lastPath());
    }

    /** The first batch of the accumulation group after the one that holds batch {@code b}. */
    private static int nextGroup(int b, int accum) {
        return (b / accum + 1) * accum;
    }

    /** Frees the optimizer state and the weight average; closing twice is harmless. */
    @Override
    public void close() {
        optimizer.close();
        ema.close();
    }

    /** checkpoint-N directories of a run, oldest first. */
    public static List<Path> checkpoints(Path outputDir) {
        return Checkpoints.list(outputDir);
    }

    /** A well-mixed 32-bit seed from (seed, epoch, batch) (splitmix64 finaliser). */
    static long mix(long seed, int epoch, int batch) {
        long z = seed * 0x9E3779B97F4A7C15L + epoch * 0xBF58476D1CE4E5B9L + batch * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (z ^ (z >>> 31)) & 0x7fffffffL;
    }

    static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }
}
