package org.finetune4j.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Embedding-table gradients added row by row, for a training step. PyTorch's embedding backward builds a
 * dense (vocab, H) gradient every step: for MiniLM's 30,522 × 384 word table, a 47 MB zero fill and a
 * 47 MB add, about 9 % of a full fine-tuning step on the CPU (BENCHMARKS.md, session 4) to add a few
 * hundred rows. Inside an open scope, {@link Embedding#forward} instead looks rows up from a detached table
 * and makes them a leaf of the graph; after backward, {@link #accumulate} adds each leaf row's gradient
 * into the table's {@link RowGradient} (the parameter's {@link Param#rowGradient}), which the optimizer
 * consumes: no dense table gradient exists at all. Rows of the padding index get none, as
 * torch.nn.Embedding(padding_idx=...) does. {@code -Dfinetune4j.sparseTableGradients=false} adds the rows
 * into a dense gradient of the table instead (sessions 4–5), to compare the two.
 *
 * <p>The scope is opt-in and per thread: code that calls backward itself without opening one (and
 * calling accumulate) gets PyTorch's embedding backward, so nothing is silently lost.
 */
public final class EmbeddingGradients implements AutoCloseable {
    private static final ThreadLocal<EmbeddingGradients> ACTIVE = new ThreadLocal<>();

    private record Lookup(Param table, long[] ids, NDArray rows, int paddingIdx) {
    }

    private final List<Lookup> lookups = new ArrayList<>();
    private final EmbeddingGradients outer;

    private EmbeddingGradients(EmbeddingGradients outer) {
        this.outer = outer;
    }

    /** Opens a scope on this thread; embeddings looked up until it closes must be {@link #accumulate}d. */
    public static EmbeddingGradients open() {
        EmbeddingGradients g = new EmbeddingGradients(ACTIVE.get());
        ACTIVE.set(g);
        return g;
    }

    /** Whether row-wise gradients are off: -Dfinetune4j.rowEmbeddingGradients=false. */
    static boolean disabled() {
        return "false".equalsIgnoreCase(System.getProperty("finetune4j.rowEmbeddingGradients"));
    }

    /**
     * The lookup for {@link Embedding#forward} inside a scope: rows of the table, detached, as a leaf that
     * collects their gradient. Null when no scope is open or the table is frozen.
     */
    static NDArray lookup(NDArray ids, Param param, int paddingIdx) {
        EmbeddingGradients g = ACTIVE.get();
        NDArray table = param.array();
        if (g == null || disabled() || !table.hasGradient() || table.getDevice().isGpu()) {
            return null; // (on a GPU the row gradients would be copies: PyTorch's embedding backward there)
        }
        NDManager m = ids.getManager();
        NDArray detached = table.stopGradient(); // shares the table's memory
        detached.attach(m); // the op files the handle under the table's long-lived manager
        NDArray rows = ids.getNDArrayInternal().embedding(ids, detached, ai.djl.ndarray.types.SparseFormat.DENSE)
                .singletonOrThrow(); // (..., H)
        rows.setRequiresGradient(true);
        g.lookups.add(new Lookup(param, ids.toLongArray(), rows, paddingIdx));
        return rows;
    }

    /**
     * Whether embedding tables get their gradient as {@link RowGradient}s in a scope (the default), so an
     * optimizer can keep their state row by row.
     */
    public static boolean rowWise() {
        return !disabled() && !denseTables();
    }

    /** Whether the rows go into a dense gradient of the table: -Dfinetune4j.sparseTableGradients=false. */
    static boolean denseTables() {
        return "false".equalsIgnoreCase(System.getProperty("finetune4j.sparseTableGradients"));
    }

    /**
     * After backward: adds the looked-up rows' gradients into the tables' gradients (which then hold
     * what PyTorch's embedding backward would have added), and forgets the lookups.
     */
    public void accumulate() {
        boolean dense = denseTables();
        for (Lookup l : lookups) {
            NDArray rowGrad = JniUtils.getGradient((PtNDArray) l.rows());
            if (rowGrad == null) {
                continue; // the rows did not reach the loss
            }
            rowGrad.attach(l.rows().getManager());
            FloatBuffer src = floats(rowGrad);
            int h = (int) l.table().shape().get(1);
            long[] ids = l.ids();
            if (dense) {
                NDArray tableGrad = tableGradient(l.table().array());
                tableGrad.attach(l.rows().getManager()); // a new handle, under the table's manager otherwise
                FloatBuffer dst = floats(tableGrad);
                for (int i = 0; i < ids.length; i++) {
                    if (ids[i] == l.paddingIdx()) {
                        continue;
                    }
                    int from = i * h;
                    int to = (int) ids[i] * h;
                    for (int j = 0; j < h; j++) {
                        dst.put(to + j, dst.get(to + j) + src.get(from + j));
                    }
                }
                continue;
            }
            RowGradient dst = l.table().openRowGradient();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] != l.paddingIdx()) {
                    dst.add((int) ids[i], src, i * h);
                }
            }
        }
        lookups.clear();
    }

    /**
     * The table's own gradient tensor. PyTorch creates a parameter's gradient at its first backward; a
     * table only looked up through this class has none, so the first call creates it with a zero-valued
     * backward (once per table: the optimizer zeroes such a table's gradient in place, where it drops others).
     */
    private static NDArray tableGradient(NDArray table) {
        PtNDArray g = JniUtils.getGradient((PtNDArray) table);
        if (g == null) {
            try (NDManager tmp = table.getManager().newSubManager(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray zero = tmp.full(new Shape(), 0f, table.getDataType()); // ()
                gc.backward(zero.mul(table).sum()); // 0 · Σ table: its gradient is zeros, laid out as the table
            }
            g = JniUtils.getGradient((PtNDArray) table);
            if (g == null) {
                throw new IllegalStateException("PyTorch did not create a gradient for an embedding table " + table.getShape());
            }
        }
        return g;
    }

    private static FloatBuffer floats(NDArray a) {
        java.nio.ByteBuffer b = a.toByteBuffer(true);
        if (!b.isDirect()) {
            throw new IllegalStateException("expected a direct view of a contiguous CPU gradient, got a copy of " + a.getShape());
        }
        return b.order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public void close() {
        ACTIVE.set(outer);
    }
}
