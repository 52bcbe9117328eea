package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.finetune4j.io.HostTensor;
import org.finetune4j.nn.EmbeddingGradients;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.RowGradient;

/**
 * AdamW (Loshchilov &amp; Hutter 2019) with torch.optim.AdamW's update, written in place so a step
 * allocates no parameter-sized temporaries (DJL-NOTES.md: per-step temporaries caused malloc churn
 * and a 2.5x slower optimizer). For each trainable parameter p with gradient g, at step t:
 *
 * <pre>
 *   p  = p (1 - lr wd)                          decoupled weight decay (0 for biases and LayerNorm)
 *   m  = b1 m + (1 - b1) g
 *   v  = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 *
 * On the CPU the update is one pass over memory in Java ({@link #fusedStep}); elsewhere it is tensor
 * ops in place, the gradient buffer serving as scratch space. After the update every gradient is dropped
 * ({@link Param#dropGradient}, PyTorch's {@code zero_grad(set_to_none=True)}), so the next backward pass
 * hands its gradients over instead of adding them to zeroed buffers. Global-norm
 * clipping (torch.nn.utils.clip_grad_norm_) is folded in as a scale on g. Only trainable parameters
 * get optimizer state; a parameter without a gradient is skipped, as torch.optim skips {@code grad is None}.
 *
 * <p>Embedding tables, whose gradient comes row by row ({@link Param#rowGradient}), are updated row by
 * row on the CPU, with the same result as the dense update, bit for bit: a row that has never had a
 * gradient has m = v = 0, for which the update above reduces to the decay {@code p (1 - lr wd)} (nothing
 * at all when wd = 0) and m, v stay 0. So only rows that have had a gradient ("active" rows) run the
 * whole update, and only they have moments in memory ({@link TableMoments}). A step of the anchor's full
 * fine-tuning then reads and writes a few thousand of the word table's 30,522 rows instead of all of
 * them. {@code -Dfinetune4j.sparseTableGradients=false} keeps tables dense, as other parameters.
 */
public final class AdamW implements AutoCloseable {

    /** Hyper-parameters with transformers' TrainingArguments defaults. */
    public record Settings(double beta1, double beta2, double eps, double weightDecay) {
        public static Settings defaults(double weightDecay) {
            return new Settings(0.9, 0.999, 1e-8, weightDecay);
        }
    }

    private final List<Param> params;
    private final Map<Param, Boolean> decays = new LinkedHashMap<>();
    private final NDManager manager;
    private final Map<Param, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<Param, NDArray> expAvgSq = new LinkedHashMap<>();
    /** The moments of embedding tables updated row by row (these have no entry in expAvg, expAvgSq). */
    private final Map<Param, TableMoments> tables = new LinkedHashMap<>();
    /** Dense copies of table moments handed out by {@link #stateViews}, freed at the next step. */
    private NDManager views;
    private final Settings s;
    private final boolean fused;
    private final int threads;
    private ExecutorService pool;
    private long step;

    /** Below this many elements per worker, handing work to another thread costs more than it saves. */
    private static final long MIN_ELEMENTS_PER_WORKER = 1 << 16;

    /**
     * @param params the trainable parameters
     * @param decayed which of them get weight decay (transformers: every weight except biases and
     *     LayerNorm weights)
     */
    public AdamW(List<Param> params, java.util.function.Predicate<String> decayed, Settings settings, NDManager parent) {
        this.params = List.copyOf(params);
        this.s = settings;
        this.manager = parent.newSubManager();
        // One pass in Java over the tensors' memory on the CPU; tensor ops on an accelerator (a CPU
        // buffer of GPU memory would be a copy).
        // -Dfinetune4j.fusedAdamW=false selects the tensor-op path (to compare the two in a benchmark).
        this.fused = Boolean.parseBoolean(System.getProperty("finetune4j.fusedAdamW", "true"))
                && params.stream().allMatch(p -> !p.array().getDevice().isGpu() && p.array().getDataType() == DataType.FLOAT32);
        this.threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), JniUtils.getNumThreads()));
        for (Param p : params) {
            decays.put(p, decayed.test(p.name()));
            // (A table over 2 GiB keeps dense moments: one mapping is one Java buffer.)
            if (fused && p.embeddingTable() && EmbeddingGradients.rowWise() && p.shape().dimension() == 2
                    && 4 * p.numel() <= Integer.MAX_VALUE) {
                tables.put(p, new TableMoments(Math.toIntExact(p.shape().get(0)), Math.toIntExact(p.shape().get(1))));
                continue;
            }
            expAvg.put(p, manager.zeros(p.shape(), DataType.FLOAT32));
            expAvgSq.put(p, manager.zeros(p.shape(), DataType.FLOAT32));
        }
    }

    /** transformers' rule: no decay for biases and LayerNorm weights (get_parameter_names minus ALL_LAYERNORM_LAYERS). */
    public static boolean decaysByDefault(String name) {
        return !name.endsWith(".bias") && !name.contains("LayerNorm") && !name.contains("layer_norm");
    }

    /**
     * Global L2 norm of all gradients, as clip_grad_norm_ computes it. The per-parameter norms are
     * gathered in the scratch manager. (Summing the squares in Java over the gradients' memory, split
     * across the cores, measured twice as slow: 7.5–7.9 against 3.4–4.2 ms a step for MiniLM.)
     */
    public double gradNorm(NDManager scratch) {
        double sum = 0;
        for (Param p : params) {
            RowGradient rows = p.rowGradient();
            if (rows != null) {
                sum += rows.sumOfSquares();
            }
            NDArray g = gradient(p, scratch);
            if (g == null) {
                continue;
            }
            double n = g.norm().getFloat();
            sum += n * n;
        }
        return Math.sqrt(sum);
    }

    /**
     * One update. {@code clipCoef} scales every gradient first (1 for none; clip_grad_norm_'s
     * max_norm / (total_norm + 1e-6) when that is below 1). Gradients are dropped afterwards.
     */
    public void step(double lr, double clipCoef, NDManager scratch) {
        closeViews();
        step++;
        double b1 = s.beta1();
        double b2 = s.beta2();
        double bc1 = 1 - Math.pow(b1, step);
        double bc2 = 1 - Math.pow(b2, step);
        // lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) == (lr sqrt(bc2)/bc1) * m / (sqrt(v) + eps sqrt(bc2)): one pass fewer.
        double stepSize = lr * Math.sqrt(bc2) / bc1;
        double epsHat = s.eps() * Math.sqrt(bc2);
        if (fused) {
            fusedStep(lr, clipCoef, stepSize, epsHat, scratch);
            return;
        }
        for (Param p : params) {
            NDArray g = gradient(p, scratch);
            g = withRows(p, g, scratch); // the tensor-op path (accelerators, -Dfinetune4j.fusedAdamW=false) is dense
            if (g == null) {
                continue;
            }
            NDArray w = p.array();
            NDArray m = expAvg.get(p);
            NDArray v = expAvgSq.get(p);
            if (decays.get(p) && s.weightDecay() > 0) {
                w.muli(1 - lr * s.weightDecay());
            }
            g.muli((1 - b1) * clipCoef); // g = (1-b1) g'
            m.muli(b1).addi(g); // m = b1 m + (1-b1) g'
            g.muli(g); // g = (1-b1)^2 g'^2
            v.muli(b2).addi(g.muli((1 - b2) / ((1 - b1) * (1 - b1)))); // v = b2 v + (1-b2) g'^2
            g.muli(0).addi(v).powi(0.5).addi(epsHat); // g = sqrt(v) + eps sqrt(bc2)
            g.powi(-1).muli(m).muli(stepSize); // g = step * m / denom
            w.subi(g);
            p.dropGradient();
        }
    }

    /**
     * The same update as one pass over memory on the CPU: each element of p, g, m and v is read once
     * and written once, split across the cores. Fourteen tensor ops per parameter, each a full pass
     * over one to three parameter-sized arrays, cost about a quarter of a full fine-tuning step; this
     * loop costs about a quarter of that (BENCHMARKS.md). PyTorch keeps a parameter's gradient in the
     * parameter's (contiguous) layout, so the buffer is the gradient itself, not a copy.
     */
    private void fusedStep(double lr, double clipCoef, double stepSize, double epsHat, NDManager scratch) {
        List<Segment> segments = new ArrayList<>();
        List<TableSegment> tableSegments = new ArrayList<>();
        List<Param> dropped = new ArrayList<>();
        List<Param> zeroed = new ArrayList<>();
        long total = 0;
        long tableWork = 0;
        for (Param p : params) {
            NDArray g = gradient(p, scratch);
            RowGradient rows = p.rowGradient();
            float decay = decays.get(p) && s.weightDecay() > 0 ? (float) (1 - lr * s.weightDecay()) : 1f;
            TableMoments moments = tables.get(p);
            if (moments != null) {
                if (g != null) {
                    // A dense gradient as well (a lookup outside a row-gradient scope): its non-zero rows join the rows.
                    rows = addDenseRows(p, floats(g));
                    p.dropGradient();
                }
                if (rows == null) {
                    continue; // never had a gradient: skipped, as torch.optim skips grad None
                }
                for (int k = 0; k < rows.count(); k++) {
                    moments.slotOrNew(rows.rowOf(k)); // here, single-threaded: the workers only read slots
                }
                tableSegments.add(new TableSegment(floats(p.array()), rows, moments, decay));
                tableWork += p.numel();
                continue;
            }
            // A table with dense moments (made while tables were kept dense, or not 2-D) takes its rows densely.
            g = withRows(p, g, scratch);
            if (g == null) {
                continue;
            }
            Segment seg = new Segment(floats(p.array()), floats(g), floats(expAvg.get(p)), floats(expAvgSq.get(p)), decay);
            segments.add(seg);
            total += seg.w.capacity();
            if (p.embeddingTable() && !EmbeddingGradients.rowWise()) {
                // Dense tables (-Dfinetune4j.sparseTableGradients=false, the A/B baseline) have their rows added into
                // the existing gradient; dropped, it would have to be made again by a zero-valued backward each step.
                zeroed.add(p);
            } else {
                dropped.add(p);
            }
        }
        Update u = new Update((float) s.beta1(), (float) s.beta2(), (float) clipCoef, (float) stepSize, (float) epsHat);
        int workers = (int) Math.max(1, Math.min(threads, (total + tableWork) / MIN_ELEMENTS_PER_WORKER));
        final long all = total;
        if (workers == 1) {
            run(segments, 0, total, u);
            tableSegments.forEach(t -> runRows(t, 0, 1, u));
        } else {
            // Worker k updates elements [k total / n, (k+1) total / n) of the dense parameters laid end to end,
            // then the table row blocks b with b % n == k.
            List<java.util.concurrent.Future<?>> running = new ArrayList<>();
            for (int k = 1; k < workers; k++) {
                int worker = k;
                int n = workers;
                running.add(pool().submit(() -> {
                    run(segments, all * worker / n, all * (worker + 1) / n, u);
                    tableSegments.forEach(t -> runRows(t, worker, n, u));
                }));
            }
            run(segments, 0, total / workers, u);
            tableSegments.forEach(t -> runRows(t, 0, workers, u));
            join(running);
        }
        tableSegments.forEach(t -> t.rows.clear());
        dropped.forEach(Param::dropGradient);
        zeroed.forEach(p -> JniUtils.zeroGrad((PtNDArray) p.array()));
    }

    /**
     * {@code g} with the parameter's row gradient added (and cleared), as a dense gradient in {@code scratch}
     * when there was none; {@code g} itself when there are no rows.
     */
    private static NDArray withRows(Param p, NDArray g, NDManager scratch) {
        RowGradient rows = p.rowGradient();
        if (rows == null || rows.count() == 0) {
            return g;
        }
        NDArray dense = org.finetune4j.nn.Aligned.floats(scratch, rows.toDense(), p.shape());
        rows.clear();
        return g == null ? dense : g.addi(dense);
    }

    /** Adds the rows of a dense table gradient that hold any non-zero bit to the table's row gradient. */
    private static RowGradient addDenseRows(Param p, FloatBuffer g) {
        RowGradient rows = p.openRowGradient();
        int h = rows.width();
        for (int r = 0; r < rows.rows(); r++) {
            for (int j = r * h; j < (r + 1) * h; j++) {
                if (Float.floatToRawIntBits(g.get(j)) != 0) {
                    rows.add(r, g, r * h);
                    break;
                }
            }
        }
        return rows;
    }

    private static void join(List<java.util.concurrent.Future<?>> running) {
        for (var f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during the optimizer step", e);
            } catch (java.util.concurrent.ExecutionException e) {
                throw new IllegalStateException("the optimizer step failed", e.getCause());
            }
        }
    }

    private record Segment(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, float decay) {}

    private record Update(float b1, float b2, float clip, float stepSize, float epsHat) {}

    /** An embedding table updated row by row: its gradient in {@code rows}, its moments in {@code moments}. */
    private record TableSegment(FloatBuffer w, RowGradient rows, TableMoments moments, float decay) {}

    /** Rows per block when the table's rows are dealt out to the workers. */
    private static final int ROW_BLOCK = 64;

    /** Updates the row blocks {@code b} of table {@code t} with {@code b % workers == worker}. */
    private static void runRows(TableSegment t, int worker, int workers, Update u) {
        RowGradient rows = t.rows;
        TableMoments moments = t.moments;
        int h = rows.width();
        float[] values = rows.values();
        // A row with m = v = 0 and no gradient: the whole update reduces to w * decay - zeroTerm (zeroTerm
        // is +0 for every finite step size, so with decay 1 the row is left as it is).
        float zeroG = 0f * u.clip;
        float zeroTerm = u.stepSize * (u.b1 * 0f + (1 - u.b1) * zeroG)
                / ((float) Math.sqrt(u.b2 * 0f + (1 - u.b2) * zeroG * zeroG) + u.epsHat);
        boolean skipIdle = t.decay == 1f && Float.floatToRawIntBits(zeroTerm) == 0;
        for (int start = worker * ROW_BLOCK; start < rows.rows(); start += workers * ROW_BLOCK) {
            for (int r = start, end = Math.min(rows.rows(), start + ROW_BLOCK); r < end; r++) {
                int state = moments.slot(r);
                if (state >= 0) {
                    int slot = rows.slot(r);
                    updateRow(t.w, r * h, slot >= 0 ? values : null, slot * h, moments.m(), moments.v(),
                            moments.offset(state), h, t.decay, u);
                } else if (!skipIdle) {
                    for (int i = r * h, e = i + h; i < e; i++) {
                        t.w.put(i, t.w.get(i) * t.decay - zeroTerm);
                    }
                }
            }
        }
    }

    /**
     * The update of {@link #update} for one table row of {@code h} weights from {@code at}, its moments from
     * {@code mAt} in {@code m} and {@code v}; {@code g == null} means a zero gradient.
     */
    private static void updateRow(FloatBuffer w, int at, float[] g, int gAt, FloatBuffer m, FloatBuffer v, int mAt, int h,
            float decay, Update u) {
        float b1 = u.b1;
        float b2 = u.b2;
        float c1 = 1 - b1;
        float c2 = 1 - b2;
        for (int j = 0; j < h; j++) {
            float gi = (g == null ? 0f : g[gAt + j]) * u.clip;
            float mi = b1 * m.get(mAt + j) + c1 * gi;
            float vi = b2 * v.get(mAt + j) + c2 * gi * gi;
            m.put(mAt + j, mi);
            v.put(mAt + j, vi);
            w.put(at + j, w.get(at + j) * decay - u.stepSize * mi / ((float) Math.sqrt(vi) + u.epsHat));
        }
    }

    /** Updates elements [lo, hi) of the parameters laid end to end. */
    private static void run(List<Segment> segments, long lo, long hi, Update u) {
        long offset = 0;
        for (Segment seg : segments) {
            int n = seg.w.capacity();
            long from = Math.max(lo, offset);
            long to = Math.min(hi, offset + n);
            if (from < to) {
                update(seg, (int) (from - offset), (int) (to - offset), u);
            }
            offset += n;
            if (offset >= hi) {
                return;
            }
        }
    }

    private static void update(Segment seg, int from, int to, Update u) {
        FloatBuffer w = seg.w;
        FloatBuffer g = seg.g;
        FloatBuffer m = seg.m;
        FloatBuffer v = seg.v;
        float b1 = u.b1;
        float b2 = u.b2;
        float c1 = 1 - b1;
        float c2 = 1 - b2;
        float decay = seg.decay;
        for (int i = from; i < to; i++) {
            float gi = g.get(i) * u.clip;
            float mi = b1 * m.get(i) + c1 * gi;
            float vi = b2 * v.get(i) + c2 * gi * gi;
            m.put(i, mi);
            v.put(i, vi);
            w.put(i, w.get(i) * decay - u.stepSize * mi / ((float) Math.sqrt(vi) + u.epsHat));
        }
    }

    private static FloatBuffer floats(NDArray a) {
        return a.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private synchronized ExecutorService pool() {
        if (pool == null) {
            pool = Executors.newFixedThreadPool(threads - 1, r -> {
                Thread t = new Thread(r, "finetune4j-adamw");
                t.setDaemon(true);
                return t;
            });
        }
        return pool;
    }

    /** Drops every gradient without updating (after a skipped step). */
    public void zeroGrad() {
        for (Param p : params) {
            p.dropGradient();
            if (p.rowGradient() != null) {
                p.rowGradient().clear();
            }
        }
    }

    /** The parameter's PyTorch gradient, or null when it has none (never reached by a backward pass). */
    private static NDArray gradient(Param p, NDManager scratch) {
        NDArray w = p.array();
        if (!w.hasGradient()) {
            return null;
        }
        // Not w.getGradient(): DJL returns a new zero array for a parameter without a gradient (a table
        // updated row by row has none). The handle goes to the per-step scratch manager so it is freed
        // with the step (DJL-NOTES.md, handle leaks).
        NDArray g = JniUtils.getGradient((PtNDArray) w);
        if (g != null) {
            g.attach(scratch);
        }
        return g;
    }

    /** The row-by-row moments of an embedding table, or null when the parameter's moments are dense. */
    TableMoments tableMoments(Param p) {
        return tables.get(p);
    }

    public long stepCount() {
        return step;
    }

    public List<Param> params() {
        return params;
    }

    /** A copy of the optimizer state: {@code exp_avg.<param>} and {@code exp_avg_sq.<param>}, dense. */
    public Map<String, HostTensor> state() {
        try (NDManager tmp = manager.newSubManager()) {
            return state(org.finetune4j.nn.ParameterStore::toHost, tmp);
        }
    }

    /**
     * The optimizer state as views, to write a checkpoint at once (valid until the next step or close):
     * zero-copy for dense parameters; embedding tables' moments are laid out densely for it.
     */
    public Map<String, HostTensor> stateViews() {
        closeViews();
        views = manager.newSubManager();
        return state(org.finetune4j.nn.ParameterStore::view, views);
    }

    private Map<String, HostTensor> state(java.util.function.Function<NDArray, HostTensor> host, NDManager dense) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (Param p : params) {
            TableMoments t = tables.get(p);
            NDArray[] mv = t != null ? t.toDense(dense) : new NDArray[] {expAvg.get(p), expAvgSq.get(p)};
            out.put("exp_avg." + p.name(), host.apply(mv[0]));
            out.put("exp_avg_sq." + p.name(), host.apply(mv[1]));
        }
        return out;
    }

    private void closeViews() {
        if (views != null) {
            views.close();
            views = null;
        }
    }

    /** Restores {@link #state()} and the step count of a checkpoint. */
    public void restore(Map<String, HostTensor> state, long stepCount) {
        List<String> missing = new ArrayList<>();
        for (Param p : params) {
            HostTensor m = state.get("exp_avg." + p.name());
            HostTensor v = state.get("exp_avg_sq." + p.name());
            if (m == null || v == null) {
                missing.add(p.name());
                continue;
            }
            TableMoments t = tables.get(p);
            if (t != null) {
                checkShape(p, m);
                checkShape(p, v);
                t.load(m.toFloatBuffer(), v.toFloatBuffer());
                continue;
            }
            replace(expAvg, p, m);
            replace(expAvgSq, p, v);
        }
        if (!missing.isEmpty()) {
            throw new org.finetune4j.io.CheckpointException("the optimizer state lacks the parameters " + missing
                    + ": it was saved with another strategy or model. Resume with the same settings as the interrupted run.");
        }
        this.step = stepCount;
    }

    private static void checkShape(Param p, HostTensor t) {
        if (!java.util.Arrays.equals(t.shape(), p.shape().getShape())) {
            throw new org.finetune4j.io.CheckpointException("optimizer state for " + p.name() + " has shape "
                    + java.util.Arrays.toString(t.shape()) + ", the parameter " + p.shape());
        }
    }

    private void replace(Map<Param, NDArray> map, Param p, HostTensor t) {
        checkShape(p, t);
        NDArray old = map.put(p, org.finetune4j.nn.Aligned.floats(manager, t.toFloatBuffer(), p.shape()));
        old.close();
    }

    /** Frees the optimizer state; closing twice is harmless. */
    @Override
    public void close() {
        synchronized (this) {
            if (pool != null) {
                pool.shutdownNow();
                pool = null;
            }
        }
        closeViews();
        tables.values().forEach(TableMoments::close);
        tables.clear();
        manager.close();
    }
}
