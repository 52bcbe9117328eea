package org.finetune4j.golden;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import org.finetune4j.testing.Golden;
import org.finetune4j.testing.NeedsSharedData;
import org.finetune4j.train.Evaluation;
import org.finetune4j.train.Losses;
import org.junit.jupiter.api.Test;

/**
 * The training loss ({@link Losses}, float32 tensors) and the evaluation loss ({@link Evaluation}, double)
 * against torch.nn.CrossEntropyLoss and BCEWithLogitsLoss (golden/losses): plain, class-weighted (the
 * mean divides by Σ w[y_i]), label smoothing, both, and multi-label BCE. Our API returns means only; a
 * per-sample value is the mean of a one-row batch, times w[y_i] with class weights (torch's
 * reduction="none" keeps the weight in each sample's loss, the weighted mean then divides by it).
 * ignore_index is not covered: our losses have none, as no label of our data sets can be missing.
 */
@NeedsSharedData
class LossParityTest {
    private static final double TOL = 1e-6;

    @Test
    void crossEntropyVariants() {
        Golden g = Golden.fixture("losses");
        JsonNode in = g.inputs();
        float[][] logits = matrix(in.get("logits"));
        int[] labels = ints(in.get("labels"));
        float[] weights = Golden.floats(in.get("class_weights"));
        double eps = in.get("label_smoothing").asDouble();
        check(g, "ce", logits, labels, null, 0);
        check(g, "ce_weighted", logits, labels, weights, 0);
        check(g, "ce_label_smoothing", logits, labels, null, eps);
        check(g, "ce_weighted_label_smoothing", logits, labels, weights, eps);
    }

    private static void check(Golden g, String name, float[][] logits, int[] labels, float[] weights, double eps) {
        JsonNode want = g.json().get(name);
        try (NDManager m = NDManager.newBaseManager()) {
            float mean = Losses.crossEntropy(array(m, logits), m.create(longs(labels)), weights, eps).getFloat();
            g.assertClose(name + ":loss", want.get("loss").asDouble(), mean, TOL);
            double[] perSample = new double[labels.length];
            for (int i = 0; i < labels.length; i++) {
                float one = Losses.crossEntropy(array(m, new float[][] {logits[i]}), m.create(new long[] {labels[i]}), weights, eps)
                        .getFloat();
                perSample[i] = weights == null ? one : one * weights[labels[i]];
            }
            g.assertClose(name + ":per_sample", Golden.doubles(want.get("per_sample")), perSample, TOL);
        }
        double evalLoss = Evaluation.crossEntropy(logits, labels, weights, eps);
        g.assertClose(name + ":float64 (Evaluation)", want.get("float64").asDouble(), evalLoss, TOL);
        g.assertClose(name + ":loss (Evaluation)", want.get("loss").asDouble(), evalLoss, TOL);
    }

    @Test
    void multiLabelBinaryCrossEntropy() {
        Golden g = Golden.fixture("losses");
        JsonNode want = g.json().get("bce_multilabel");
        float[][] logits = matrix(g.inputs().get("multilabel_logits"));
        float[][] targets = matrix(g.inputs().get("multilabel_labels"));
        boolean[][] gold = new boolean[targets.length][targets[0].length];
        for (int i = 0; i < targets.length; i++) {
            for (int c = 0; c < targets[i].length; c++) {
                gold[i][c] = targets[i][c] == 1f;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            float mean = Losses.binaryCrossEntropyWithLogits(array(m, logits), array(m, targets)).getFloat();
            g.assertClose("bce_multilabel:loss", want.get("loss").asDouble(), mean, TOL);
            int c = logits[0].length;
            double[] perElement = new double[logits.length * c];
            double[] expected = new double[perElement.length];
            for (int i = 0; i < logits.length; i++) {
                for (int k = 0; k < c; k++) {
                    perElement[i * c + k] = Losses.binaryCrossEntropyWithLogits(array(m, new float[][] {{logits[i][k]}}),
                            array(m, new float[][] {{targets[i][k]}})).getFloat();
                    expected[i * c + k] = want.get("per_element").get(i).get(k).asDouble();
                }
            }
            g.assertClose("bce_multilabel:per_element", expected, perElement, TOL);
        }
        double evalLoss = Evaluation.binaryCrossEntropy(logits, gold);
        g.assertClose("bce_multilabel:float64 (Evaluation)", want.get("float64").asDouble(), evalLoss, TOL);
        g.assertClose("bce_multilabel:loss (Evaluation)", want.get("loss").asDouble(), evalLoss, TOL);
    }

    private static NDArray array(NDManager m, float[][] rows) {
        int c = rows[0].length;
        float[] flat = new float[rows.length * c];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, flat, i * c, c);
        }
        return m.create(flat, new Shape(rows.length, c));
    }

    private static float[][] matrix(JsonNode rows) {
        float[][] out = new float[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = Golden.floats(rows.get(i));
        }
        return out;
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    private static long[] longs(int[] v) {
        long[] out = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }
}
