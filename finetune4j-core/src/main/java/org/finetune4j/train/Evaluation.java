package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/** Runs a model over a dataset without gradients and returns its logits, in dataset order. */
public final class Evaluation {
    private Evaluation() {
    }

    /** Progress callback: examples done out of total. */
    public interface Progress {
        void update(int done, int total);
    }

    /**
     * @return logits (N x C). Examples are batched by length (longest first) so batches carry little
     *     padding; results are put back in dataset order.
     */
    public static float[][] logits(Examples data, int batchSize, NDManager parent, Progress progress) {
        int n = data.size();
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> -data.tokenCount(i)).thenComparingInt(i -> i));
        float[][] out = new float[n][];
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            int[] idx = new int[end - start];
            for (int j = 0; j < idx.length; j++) {
                idx[j] = order[start + j];
            }
            try (NDManager m = parent.newSubManager()) {
                NDArray logits = data.logits(m, idx, false, null); // (B, C)
                int c = (int) logits.getShape().get(1);
                float[] flat = logits.toFloatArray();
                for (int j = 0; j < idx.length; j++) {
                    out[idx[j]] = Arrays.copyOfRange(flat, j * c, (j + 1) * c);
                }
            }
            if (progress != null) {
                progress.update(end, n);
            }
        }
        return out;
    }

    /** Row-wise softmax, in double precision. */
    public static float[][] softmax(float[][] logits) {
        float[][] p = new float[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (float v : logits[i]) {
                max = Math.max(max, v);
            }
            double sum = 0;
            double[] e = new double[logits[i].length];
            for (int c = 0; c < e.length; c++) {
                e[c] = Math.exp(logits[i][c] - max);
                sum += e[c];
            }
            p[i] = new float[e.length];
            for (int c = 0; c < e.length; c++) {
                p[i][c] = (float) (e[c] / sum);
            }
        }
        return p;
    }

    public static float[][] sigmoid(float[][] logits) {
        float[][] p = new float[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            p[i] = new float[logits[i].length];
            for (int c = 0; c < p[i].length; c++) {
                p[i][c] = (float) (1 / (1 + Math.exp(-logits[i][c])));
            }
        }
        return p;
    }

    /** The same loss as training (see {@link Losses#crossEntropy}), over a whole dataset, in double precision. */
    public static double crossEntropy(float[][] logits, int[] gold, float[] weights, double smoothing) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < logits.length; i++) {
            int c = logits[i].length;
            double max = Double.NEGATIVE_INFINITY;
            for (float v : logits[i]) {
                max = Math.max(max, v);
            }
            double lse = 0;
            for (float v : logits[i]) {
                lse += Math.exp(v - max);
            }
            lse = Math.log(lse) + max;
            double wy = weights == null ? 1 : weights[gold[i]];
            double smooth = 0;
            for (int k = 0; k < c; k++) {
                smooth += -(weights == null ? 1 : weights[k]) * (logits[i][k] - lse);
            }
            num += (1 - smoothing) * (-wy * (logits[i][gold[i]] - lse)) + smoothing / c * smooth;
            den += wy;
        }
        return num / den;
    }

    public static double binaryCrossEntropy(float[][] logits, boolean[][] gold) {
        double sum = 0;
        long count = 0;
        for (int i = 0; i < logits.length; i++) {
            for (int c = 0; c < logits[i].length; c++) {
                double x = logits[i][c];
                double y = gold[i][c] ? 1 : 0;
                sum += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
                count++;
            }
        }
        return sum / count;
    }
}
