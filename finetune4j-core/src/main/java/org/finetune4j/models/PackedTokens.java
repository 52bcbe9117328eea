package org.finetune4j.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

/**
 * Inference on only the real tokens of a padded batch: (N, H) with N = the number of ones in the
 * attention mask. A batch of 64 tweets in file order is ~46 % padding; packed, the linear layers, which
 * are most of the work, no longer compute it. This is the "remove padding" of inference engines
 * (TensorRT, FlashAttention's varlen kernels) done with plain gathers (docs/performance.md).
 *
 * <p>Sequences are stored one after another, longest first. For {@link Attention}, the one operation
 * that mixes tokens, consecutive sequences form {@link Group}s that each pad to their own longest
 * sequence (at most {@value #GROUP_PADDING} extra), so the score matrices are small as well. The
 * encoder's output is returned padded again, (B, T, H), with zeros at padded positions (which no pooling
 * reads). TokenLayoutTest checks the result against padded inference.
 */
final class PackedTokens implements TokenLayout {
    /** A group may hold up to this fraction of padding over its real tokens. */
    static final double GROUP_PADDING = 0.15;

    /**
     * One attention group: {@code count} sequences padded to {@code length} tokens.
     *
     * @param gather (count * length) packed row of each padded slot; a padded slot points at the
     *        sequence's first token, which the mask then hides
     * @param mask additive (count, 1, 1, length)
     * @param scatter (n) the padded slot of each of the group's real tokens, in packed order
     */
    record Group(int count, int length, NDArray gather, NDArray mask, NDArray scatter) {
    }

    private final long batch;
    private final long time;
    private final long[] flatIndex; // (N) position in the flattened (B * T) batch of each packed token
    private final List<Group> groups;
    private final NDArray unpack; // (B * T) packed row of each batch slot, N (a zero row) for padding

    private PackedTokens(long batch, long time, long[] flatIndex, List<Group> groups, NDArray unpack) {
        this.batch = batch;
        this.time = time;
        this.flatIndex = flatIndex;
        this.groups = groups;
        this.unpack = unpack;
    }

    /** The packed layout of a (B, T) 0/1 mask, or null when there is no padding or a row has no token. */
    static PackedTokens of(NDArray attentionMask) {
        NDManager m = attentionMask.getManager();
        long b = attentionMask.getShape().get(0);
        int t = (int) attentionMask.getShape().get(1);
        long[] mask = attentionMask.toType(DataType.INT64, false).toLongArray(); // (B * T)
        int[][] positions = new int[(int) b][];
        long real = 0;
        for (int i = 0; i < b; i++) {
            int row = i;
            positions[i] = IntStream.range(0, t).filter(j -> mask[row * t + j] != 0).toArray();
            if (positions[i].length == 0) {
                return null;
            }
            real += positions[i].length;
        }
        if (real == b * t) {
            return null;
        }
        // Longest first, ties in batch order: consecutive sequences then have similar lengths.
        Integer[] order = IntStream.range(0, (int) b).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -positions[i].length));
        long[] flat = new long[(int) real];
        long[] unpack = new long[(int) (b * t)];
        Arrays.fill(unpack, real);
        int[] offset = new int[(int) b];
        int next = 0;
        for (int i : order) {
            offset[i] = next;
            for (int p : positions[i]) {
                flat[next] = (long) i * t + p;
                unpack[i * t + p] = next;
                next++;
            }
        }
        List<Group> groups = new ArrayList<>();
        for (int start = 0; start < b;) {
            int length = positions[order[start]].length;
            int end = start + 1;
            long tokens = length;
            while (end < b && (end - start + 1) * (long) length <= (1 + GROUP_PADDING) * (tokens + positions[order[end]].length)) {
                tokens += positions[order[end]].length;
                end++;
            }
            int count = end - start;
            long[] gather = new long[count * length];
            float[] bias = new float[count * length];
            long[] scatter = new long[(int) tokens];
            int s = 0;
            for (int g = 0; g < count; g++) {
                int seq = order[start + g];
                int len = positions[seq].length;
                for (int p = 0; p < length; p++) {
                    gather[g * length + p] = offset[seq] + (p < len ? p : 0);
                    bias[g * length + p] = p < len ? 0f : -Float.MAX_VALUE;
                    if (p < len) {
                        scatter[s++] = (long) g * length + p;
                    }
                }
            }
            groups.add(new Group(count, length, m.create(gather), m.create(bias, new Shape(count, 1, 1, length)),
                    m.create(scatter)));
            start = end;
        }
        return new PackedTokens(b, t, flat, groups, m.create(unpack));
    }

    /** The number of real tokens N. */
    int size() {
        return flatIndex.length;
    }

    /** The attention groups (sizes and lengths are what the tests look at). */
    List<Group> groups() {
        return groups;
    }

    @Override
    public NDArray attention(NDArray q, NDArray k, NDArray v, int numHeads, int headSize, UnaryOperator<NDArray> scale,
            double dropoutP, boolean training) {
        long h = q.getShape().get(1);
        NDArray[] parts = new NDArray[groups.size()];
        for (int i = 0; i < parts.length; i++) {
            Group g = groups.get(i);
            Shape padded = new Shape(g.count(), g.length(), h);
            NDArray qg = rows(q, g.gather()).reshape(padded); // (b, T', H)
            NDArray kg = rows(k, g.gather()).reshape(padded); // (b, T', H)
            NDArray vg = rows(v, g.gather()).reshape(padded); // (b, T', H)
            NDArray context = Attention.attend(qg, kg, vg, g.mask(), numHeads, headSize, scale, dropoutP, training); // (b, T', H)
            parts[i] = rows(context.reshape(-1, h), g.scatter()); // (n, H)
        }
        return parts.length == 1 ? parts[0] : NDArrays.concat(new NDList(parts), 0); // (N, H)
    }

    @Override
    public NDArray tokens(NDArray batchTokens) {
        long[] all = batchTokens.toType(DataType.INT64, false).toLongArray(); // (B * T)
        if (all.length != batch * time) {
            throw new IllegalArgumentException("expected a (" + batch + ", " + time + ") input, got " + batchTokens.getShape());
        }
        long[] out = new long[flatIndex.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = all[(int) flatIndex[i]];
        }
        return batchTokens.getManager().create(out); // (N)
    }

    @Override
    public NDArray positionIds(NDManager manager) {
        return manager.create(Arrays.stream(flatIndex).map(i -> i % time).toArray()); // (N)
    }

    @Override
    public NDArray toBatch(NDArray states) {
        long h = states.getShape().get(1);
        NDArray withZero = states.concat(states.getManager().zeros(new Shape(1, h), states.getDataType()), 0); // (N + 1, H)
        return rows(withZero, unpack).reshape(batch, time, h); // (B, T, H)
    }

    /** Rows of a 2-D table by index, with autograd (torch.nn.functional.embedding): (R, D), (K) -> (K, D). */
    private static NDArray rows(NDArray table, NDArray index) {
        NDArray out = index.getNDArrayInternal().embedding(index, table, SparseFormat.DENSE).singletonOrThrow();
        out.attach(table.getManager()); // the op files it under the index's (per-batch) manager: keep it in the layer's scope
        return out;
    }
}
