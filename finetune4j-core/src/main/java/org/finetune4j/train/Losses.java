package org.finetune4j.train;

import static org.finetune4j.nn.Functional.scalar;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** The classification losses of transformers' sequence-classification models, with torch's semantics. */
public final class Losses {
    private Losses() {
    }

    /**
     * torch.nn.CrossEntropyLoss(weight=w, label_smoothing=eps), mean reduction:
     * loss_i = (1 - eps) (-w[y_i] log p_i[y_i]) + eps/C sum_c (-w[c] log p_i[c]), and the mean divides by
     * sum_i w[y_i] (by N without weights).
     *
     * @param logits (B, C)
     * @param labels (B) int64 class ids
     * @param classWeights C weights, or null
     * @return scalar loss
     */
    public static NDArray crossEntropy(NDArray logits, NDArray labels, float[] classWeights, double labelSmoothing) {
        long c = logits.getShape().get(1);
        NDArray logp = logits.logSoftmax(-1); // (B, C)
        NDArray onehot = labels.oneHot((int) c).toType(DataType.FLOAT32, false); // (B, C)
        NDArray w = classWeights == null ? null : org.finetune4j.nn.Aligned.floats(logits.getManager(), classWeights, new Shape(1, c)); // (1, C)
        NDArray nll = logp.mul(onehot); // (B, C): log p at the target
        NDArray wy = w == null ? null : onehot.mul(w).sum(new int[] {1}); // (B): w[y_i]
        if (w != null) {
            nll = nll.mul(w);
        }
        NDArray perSample = nll.sum(new int[] {1}).neg(); // (B)
        if (labelSmoothing > 0) {
            NDArray smooth = (w == null ? logp : logp.mul(w)).sum(new int[] {1}).neg(); // (B)
            smooth = smooth.div(scalar(smooth, c)); // (B)
            perSample = perSample.mul(scalar(perSample, 1 - labelSmoothing)).add(smooth.mul(scalar(smooth, labelSmoothing)));
        }
        return w == null ? perSample.mean() : perSample.sum().div(wy.sum());
    }

    /**
     * torch.nn.BCEWithLogitsLoss, mean over all elements, in the numerically stable form
     * max(x, 0) - x y + log(1 + exp(-|x|)).
     *
     * @param logits (B, C)
     * @param targets (B, C) float32 multi-hot
     */
    public static NDArray binaryCrossEntropyWithLogits(NDArray logits, NDArray targets) {
        NDArray pos = logits.maximum(scalar(logits, 0)); // (B, C)
        NDArray softplus = logits.abs().neg().exp().add(scalar(logits, 1)).log(); // (B, C)
        return pos.sub(logits.mul(targets)).add(softplus).mean();
    }

    /** scikit-learn's compute_class_weight("balanced"): n_samples / (n_classes * count_c). */
    public static float[] balancedWeights(int[] labelIds, int numClasses) {
        long[] counts = new long[numClasses];
        for (int y : labelIds) {
            counts[y]++;
        }
        float[] w = new float[numClasses];
        for (int c = 0; c < numClasses; c++) {
            if (counts[c] == 0) {
                throw new IllegalArgumentException("class " + c + " has no training example, so a balanced weight is undefined");
            }
            w[c] = (float) ((double) labelIds.length / (numClasses * (double) counts[c]));
        }
        return w;
    }
}
