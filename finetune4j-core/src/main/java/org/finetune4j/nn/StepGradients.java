package org.finetune4j.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradients of one training step that autograd does not leave in a parameter's {@code .grad}: the
 * embedding tables' gradients, collected row by row, and the gradients of layers that run a
 * hand-written backward ({@link HandBackward}). After the loss's backward pass, {@link #accumulate}
 * runs the hand-written ones, then collects the rows.
 *
 * <p>Embedding tables. PyTorch's embedding backward
 * builds a dense (vocab, H) gradient every step: for MiniLM's 30,522 × 384 word table a 47 MB zero fill
 * and a 47 MB add, about 9 % of a full fine-tuning step on the CPU, to add a few hundred rows
 * (docs/performance.md). Given this scope (through {@link org.finetune4j.models.EncoderInput}),
 * {@link Embedding#forward} instead looks rows up from a detached table and makes them a leaf of the
 * graph; after backward, {@link #accumulate} adds each leaf row's gradient into the table's
 * {@link RowGradient} ({@link Param#rowGradient}), which the optimizer consumes: no dense table gradient
 * exists at all. Rows of the padding index get none, as torch.nn.Embedding(padding_idx=...) does.
 * EmbeddingGradientsTest checks the result against PyTorch's embedding backward.
 *
 * <p>A forward pass without a scope (inference, or code that calls backward itself) gets PyTorch's
 * embedding backward, so nothing is silently lost; so does a table on a GPU, where the rows would be copies.
 */
public final class StepGradients {

    private record Lookup(Param table, long[] ids, NDArray rows, int paddingIdx) {
    }

    private final List<Lookup> lookups = new ArrayList<>();
    private final List<HandBackward> segments = new ArrayList<>();

    /**
     * A stretch of the network whose backward pass is written by hand. Its forward pass ran without
     * autograd from a detached copy of {@code input()} and ended in {@code output()}, a leaf that
     * collects the gradient of the layers above it; {@link #backward} gets that gradient and returns the
     * gradient of the input, having accumulated its parameters' gradients ({@link Param#accumulateGradient}).
     */
    public interface HandBackward {
        /** The tensor the stretch started from, still in autograd's graph. */
        NDArray input();

        /** Whether anything below the input trains, so its gradient must go on through autograd. */
        boolean inputNeedsGradient();

        /** The stretch's result, a leaf of the graph above it. */
        NDArray output();

        /** d loss / d output -> d loss / d input; frees what the forward pass kept. */
        NDArray backward(NDArray outputGradient);
    }

    /** Files a hand-written stretch of this step's forward pass, to be run backwards by {@link #accumulate}. */
    public void add(HandBackward segment) {
        segments.add(segment);
    }

    /**
     * Runs each hand-written stretch backwards from the gradient its output received, last stretch first,
     * and hands the gradient of its input to autograd (the embeddings below it).
     */
    private void backwardThroughLayers() {
        for (int i = segments.size() - 1; i >= 0; i--) {
            HandBackward s = segments.get(i);
            NDArray dOut = JniUtils.getGradient((PtNDArray) s.output());
            if (dOut == null) {
                continue; // the stretch did not reach the loss
            }
            dOut.attach(s.output().getManager());
            NDArray dIn = s.backward(dOut);
            if (s.inputNeedsGradient()) {
                JniUtils.backward((PtNDArray) s.input(), (PtNDArray) dIn, false, false);
            }
        }
        segments.clear();
    }

    /** A scope for one forward and backward pass; call {@link #accumulate} after the backward pass. */
    public StepGradients() {
    }

    /**
     * The lookup for {@link Embedding#forward}: rows of the table, detached, as a leaf that collects their
     * gradient. Null when the table is frozen or on a GPU (PyTorch's embedding backward then).
     */
    NDArray lookup(NDArray ids, Param param, int paddingIdx) {
        NDArray table = param.array();
        if (!table.hasGradient() || table.getDevice().isGpu()) {
            return null;
        }
        NDManager m = ids.getManager();
        NDArray detached = table.stopGradient(); // shares the table's memory
        detached.attach(m); // the op files the handle under the table's long-lived manager
        NDArray rows = ids.getNDArrayInternal().embedding(ids, detached, SparseFormat.DENSE).singletonOrThrow(); // (..., H)
        rows.setRequiresGradient(true);
        lookups.add(new Lookup(param, ids.toLongArray(), rows, paddingIdx));
        return rows;
    }

    /**
     * After the loss's backward pass: runs the hand-written stretches backwards (their parameters' gradients
     * and, through autograd, the gradients below them), then adds the looked-up rows' gradients into the
     * tables' {@link RowGradient}s, in the order of the lookups (so each row holds the same float sum at
     * every run), and forgets both.
     */
    public void accumulate() {
        backwardThroughLayers();
        for (Lookup l : lookups) {
            NDArray rowGrad = JniUtils.getGradient((PtNDArray) l.rows());
            if (rowGrad == null) {
                continue; // the rows did not reach the loss
            }
            rowGrad.attach(l.rows().getManager());
            FloatBuffer src = floats(rowGrad);
            int h = (int) l.table().shape().get(1);
            long[] ids = l.ids();
            RowGradient dst = l.table().openRowGradient();
            for (int i = 0; i < ids.length; i++) {
                if (ids[i] != l.paddingIdx()) {
                    dst.add((int) ids[i], src, i * h);
                }
            }
        }
        lookups.clear();
    }

    private static FloatBuffer floats(NDArray a) {
        java.nio.ByteBuffer b = a.toByteBuffer(true);
        if (!b.isDirect()) {
            throw new IllegalStateException("expected a direct view of a contiguous CPU gradient, got a copy of " + a.getShape());
        }
        return b.order(ByteOrder.nativeOrder()).asFloatBuffer();
    }
}
