package org.finetune4j.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.finetune4j.data.BatchBuilder;
import org.finetune4j.data.EncodedDataset;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.nn.StepGradients;

/**
 * The frozen strategy's shortcut: the encoder never changes, so its features are computed once (in
 * inference mode) and every epoch trains only the head on them. With dropout off this gives exactly
 * the head that training through the frozen encoder gives.
 */
public final class CachedFeatureExamples implements Examples {
    private final TransformerModel model;
    private final EncodedDataset data;
    private final float[] features; // (N, F) row-major
    private final int width;
    private final boolean poolerTrains;
    private final BatchBuilder builder;

    private CachedFeatureExamples(TransformerModel model, EncodedDataset data, float[] features, int width, boolean poolerTrains) {
        this.model = model;
        this.data = data;
        this.features = features;
        this.width = width;
        this.poolerTrains = poolerTrains;
        this.builder = new BatchBuilder(model.config().encoder().padTokenId());
    }

    /** Runs the frozen part of the model once over {@code data} (batched by length). */
    public static CachedFeatureExamples compute(TransformerModel model, EncodedDataset data, boolean poolerTrains, int batchSize,
            NDManager parent, Evaluation.Progress progress) {
        int n = data.size();
        int width = model.config().encoder().hiddenSize();
        float[] out = new float[n * width];
        Integer[] order = java.util.stream.IntStream.range(0, n).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(order, java.util.Comparator.comparingInt(i -> -data.length(i)));
        BatchBuilder builder = new BatchBuilder(model.config().encoder().padTokenId());
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            int[] idx = new int[end - start];
            for (int j = 0; j < idx.length; j++) {
                idx[j] = order[start + j];
            }
            try (NDManager m = parent.newSubManager()) {
                float[] f = model.cacheableFeatures(builder.toInput(m, data, idx), poolerTrains).toFloatArray(); // (B, F)
                for (int j = 0; j < idx.length; j++) {
                    System.arraycopy(f, j * width, out, idx[j] * width, width);
                }
            }
            if (progress != null) {
                progress.update(end, n);
            }
        }
        return new CachedFeatureExamples(model, data, out, width, poolerTrains);
    }

    @Override
    public int size() {
        return data.size();
    }

    @Override
    public int tokenCount(int i) {
        return data.length(i);
    }

    /** The head alone on the cached features: there is no embedding lookup, so {@code embeddingRows} is unused. */
    @Override
    public NDArray logits(NDManager m, int[] idx, boolean training, StepGradients embeddingRows) {
        float[] rows = new float[idx.length * width];
        for (int j = 0; j < idx.length; j++) {
            System.arraycopy(features, idx[j] * width, rows, j * width, width);
        }
        NDArray x = org.finetune4j.nn.Aligned.floats(m, rows, new Shape(idx.length, width)); // (B, F)
        return model.logitsFromCached(x, poolerTrains, training); // (B, C)
    }

    @Override
    public NDArray labels(NDManager m, int[] idx) {
        return builder.labels(m, data, idx);
    }

    @Override
    public int[] goldIds() {
        return TokenizedExamples.goldIds(data);
    }

    @Override
    public boolean[][] goldSets() {
        return TokenizedExamples.goldSets(data);
    }
}
