package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.finetune4j.nn.FusedKernels;
import org.finetune4j.nn.Param;
import org.finetune4j.nn.RowGradient;
import org.finetune4j.train.AdamW.State;
import org.finetune4j.train.AdamW.Step;

/**
 * {@link AdamW}'s update on the CPU, as one pass over memory in Java: each element of p, g, m and v is
 * read once and written once, split across the cores. Fourteen tensor ops per parameter
 * ({@link TensorOpUpdate}), each a full pass over one to three parameter-sized arrays, cost about a
 * quarter of a full fine-tuning step; this loop costs about a quarter of that (docs/performance.md;
 * OptimizationTest checks it against torch's update). PyTorch keeps a parameter's gradient in the
 * parameter's (contiguous) layout, so the buffer is the gradient itself, not a copy.
 *
 * <p>Embedding tables, whose gradient comes row by row ({@link Param#rowGradient}), are updated row by
 * row, with the same result as the dense update, bit for bit (AdamWTableRowsTest): a row that has never
 * had a gradient has m = v = 0, for which the update reduces to the decay {@code p (1 - lr wd)} (nothing
 * at all when wd = 0) and m, v stay 0. So only rows that have had a gradient ("active" rows) run the
 * whole update, and only they have moments in memory ({@link TableMoments}). A step of the anchor's full
 * fine-tuning then reads and writes a few thousand of the word table's 30,522 rows instead of all of them.
 */
final class CpuUpdate implements AdamW.Update {
    /** A table's moments are one Java buffer each, so a larger table keeps dense moments. */
    static final long MAX_ROW_MOMENT_BYTES = Integer.MAX_VALUE;
    /** Below this many elements per worker, handing work to another thread costs more than it saves. */
    private static final long MIN_ELEMENTS_PER_WORKER = 1 << 16;
    /** Rows per block when a table's rows are dealt out to the workers. */
    private static final int ROW_BLOCK = 64;

    private final long maxRowMomentBytes;
    private final int threads;
    private ExecutorService pool;

    CpuUpdate() {
        this(MAX_ROW_MOMENT_BYTES);
    }

    /** With a lower table limit, AdamWTableRowsTest runs tables with dense moments, as those over 2 GiB are. */
    CpuUpdate(long maxRowMomentBytes) {
        this.maxRowMomentBytes = maxRowMomentBytes;
        this.threads = Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), JniUtils.getNumThreads()));
    }

    @Override
    public boolean rowMoments(Param p) {
        return p.embeddingTable() && p.shape().dimension() == 2 && 4 * p.numel() <= maxRowMomentBytes;
    }

    /** A dense parameter, with its own decay factor and step size (its learning rate's). */
    private record Segment(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, float decay, float stepSize) {}

    /** An embedding table updated row by row: its gradient in {@code rows}, its moments in {@code moments}. */
    private record TableSegment(FloatBuffer w, RowGradient rows, TableMoments moments, float decay, float stepSize) {}

    /** {@link Step} in float, as the loop computes; the step size is each parameter's. */
    private record Coefficients(float b1, float b2, float clip, float epsHat) {}

    @Override
    public void apply(List<State> states, Step step, NDManager scratch) {
        List<Segment> segments = new ArrayList<>();
        List<TableSegment> tableSegments = new ArrayList<>();
        List<Param> dropped = new ArrayList<>();
        long total = 0;
        long tableWork = 0;
        for (State st : states) {
            Param p = st.param;
            float decay = st.decays && step.weightDecay() > 0 ? (float) (1 - step.lr() * st.lrScale * step.weightDecay()) : 1f;
            float stepSize = (float) (step.stepSize() * st.lrScale);
            if (st.rows != null) {
                RowGradient rows = p.rowGradient();
                NDArray g = AdamW.gradient(p, scratch);
                if (g != null) {
                    // A dense gradient as well (a lookup without a row-gradient scope): its non-zero rows join the rows.
                    rows = addDenseRows(p, floats(g));
                    p.dropGradient();
                }
                if (rows == null) {
                    continue; // never had a gradient: skipped, as torch.optim skips grad None
                }
                for (int k = 0; k < rows.count(); k++) {
                    st.rows.slotOrNew(rows.rowOf(k)); // here, single-threaded: the workers only read slots
                }
                tableSegments.add(new TableSegment(floats(p.array()), rows, st.rows, decay, stepSize));
                tableWork += p.numel();
                continue;
            }
            NDArray g = AdamW.denseGradient(p, scratch); // (a table over 2 GiB takes its rows densely)
            if (g == null) {
                continue;
            }
            Segment seg = new Segment(floats(p.array()), floats(g), floats(st.m), floats(st.v), decay, stepSize);
            segments.add(seg);
            total += seg.w.capacity();
            dropped.add(p);
        }
        Coefficients u = new Coefficients((float) step.beta1(), (float) step.beta2(), (float) step.clip(),
                (float) step.epsHat());
        // The C update splits each call over libtorch's OpenMP threads itself; Java threads would only compete with them.
        int workers = FusedKernels.available() ? 1 : (int) Math.max(1, Math.min(threads, (total + tableWork) / MIN_ELEMENTS_PER_WORKER));
        final long all = total;
        if (workers == 1) {
            run(segments, 0, total, u);
            tableSegments.forEach(t -> runRows(t, 0, 1, u));
        } else {
            // Worker k updates elements [k total / n, (k+1) total / n) of the dense parameters laid end to end,
            // then the table row blocks b with b % n == k.
            List<Future<?>> running = new ArrayList<>();
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

    private static void join(List<Future<?>> running) {
        for (var f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during the optimizer step", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("the optimizer step failed", e.getCause());
            }
        }
    }

    /** Updates the row blocks {@code b} of table {@code t} with {@code b % workers == worker}. */
    private static void runRows(TableSegment t, int worker, int workers, Coefficients u) {
        RowGradient rows = t.rows;
        TableMoments moments = t.moments;
        int h = rows.width();
        float[] values = rows.values();
        // A row with m = v = 0 and no gradient: the whole update reduces to w * decay - zeroTerm (zeroTerm
        // is +0 for every finite step size, so with decay 1 the row is left as it is).
        float zeroG = 0f * u.clip;
        float zeroTerm = t.stepSize * (u.b1 * 0f + (1 - u.b1) * zeroG)
                / ((float) Math.sqrt(u.b2 * 0f + (1 - u.b2) * zeroG * zeroG) + u.epsHat);
        boolean skipIdle = t.decay == 1f && Float.floatToRawIntBits(zeroTerm) == 0;
        if (FusedKernels.available()) { // the same update in C, the whole table in one call: the same bits (FusedAdamWTest)
            int[] wRows = new int[rows.rows()];
            int[] gAt = new int[wRows.length];
            int[] mAt = new int[wRows.length];
            int count = 0;
            for (int r = 0; r < rows.rows(); r++) {
                int state = moments.slot(r);
                if (state < 0 && skipIdle) {
                    continue;
                }
                int slot = state >= 0 ? rows.slot(r) : -1;
                wRows[count] = r;
                gAt[count] = slot >= 0 ? slot * h : -1;
                mAt[count] = state >= 0 ? moments.offset(state) : -1;
                count++;
            }
            if (count > 0) {
                FusedKernels.adamwTableRows(t.w, values, moments.m(), moments.v(), wRows, gAt, mAt, count, h, u.b1, u.b2, u.clip,
                        t.decay, t.stepSize, u.epsHat, zeroTerm);
            }
            return;
        }
        for (int start = worker * ROW_BLOCK; start < rows.rows(); start += workers * ROW_BLOCK) {
            for (int r = start, end = Math.min(rows.rows(), start + ROW_BLOCK); r < end; r++) {
                int state = moments.slot(r);
                if (state >= 0) {
                    int slot = rows.slot(r);
                    updateRow(t.w, r * h, slot >= 0 ? values : null, slot * h, moments.m(), moments.v(),
                            moments.offset(state), h, t.decay, t.stepSize, u);
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
            float decay, float stepSize, Coefficients u) {
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
            w.put(at + j, w.get(at + j) * decay - stepSize * mi / ((float) Math.sqrt(vi) + u.epsHat));
        }
    }

    /** Updates elements [lo, hi) of the parameters laid end to end. */
    private static void run(List<Segment> segments, long lo, long hi, Coefficients u) {
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

    private static void update(Segment seg, int from, int to, Coefficients u) {
        FloatBuffer w = seg.w;
        FloatBuffer g = seg.g;
        FloatBuffer m = seg.m;
        FloatBuffer v = seg.v;
        float b1 = u.b1;
        float b2 = u.b2;
        float c1 = 1 - b1;
        float c2 = 1 - b2;
        float decay = seg.decay;
        float stepSize = seg.stepSize;
        if (FusedKernels.available()) { // the same loop in C, vectorised: the same bits (OptimizationTest)
            FusedKernels.adamwRange(w, g, m, v, from, to, b1, b2, u.clip, decay, stepSize, u.epsHat);
            return;
        }
        for (int i = from; i < to; i++) {
            float gi = g.get(i) * u.clip;
            float mi = b1 * m.get(i) + c1 * gi;
            float vi = b2 * v.get(i) + c2 * gi * gi;
            m.put(i, mi);
            v.put(i, vi);
            w.put(i, w.get(i) * decay - stepSize * mi / ((float) Math.sqrt(vi) + u.epsHat));
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

    @Override
    public synchronized void close() {
        if (pool != null) {
            pool.shutdownNow();
            pool = null;
        }
    }
}
