package org.finetune4j.models;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.finetune4j.config.Pooling;
import org.finetune4j.text.Tokenized;

/** Runs the same padded batch through ONNX Runtime and through our encoder, and compares them. */
final class OnnxParity {
    private OnnxParity() {
    }

    /**
     * A padded batch as plain arrays, (B, T) each.
     *
     * @param lengths the number of real tokens of each row
     */
    record Batch(long[][] ids, long[][] mask, long[][] types, int[] lengths) {
        /** Right-pads the sequences with {@code padId} to {@code padTo} tokens (at least the longest). */
        static Batch of(List<Tokenized> seqs, int padTo, long padId) {
            int t = Math.max(padTo, seqs.stream().mapToInt(Tokenized::length).max().orElse(0));
            int b = seqs.size();
            long[][] ids = new long[b][t];
            long[][] mask = new long[b][t];
            long[][] types = new long[b][t];
            int[] lengths = new int[b];
            for (int i = 0; i < b; i++) {
                Tokenized s = seqs.get(i);
                lengths[i] = s.length();
                java.util.Arrays.fill(ids[i], padId);
                for (int j = 0; j < s.length(); j++) {
                    ids[i][j] = s.ids()[j];
                    types[i][j] = s.typeIds()[j];
                    mask[i][j] = 1;
                }
            }
            return new Batch(ids, mask, types, lengths);
        }

        int maxLength() {
            return ids[0].length;
        }
    }

    /** ONNX Runtime's first output, last_hidden_state (B, T, H), feeding the inputs the graph declares. */
    static float[][][] ort(OrtSession session, Batch batch) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        Map<String, long[][]> available = Map.of("input_ids", batch.ids(), "attention_mask", batch.mask(),
                "token_type_ids", batch.types());
        Map<String, OnnxTensor> inputs = new LinkedHashMap<>();
        try {
            for (String name : session.getInputNames()) {
                long[][] values = available.get(name);
                if (values == null) {
                    throw new IllegalStateException("the ONNX graph has an input " + name + " this test does not feed");
                }
                inputs.put(name, OnnxTensor.createTensor(env, values));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                return (float[][][]) result.get(0).getValue();
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    /** Our encoder's last_hidden_state (B, T, H), computed in a per-batch memory scope. */
    static float[][][] ours(TransformerModel model, Batch batch) {
        try (NDManager m = model.manager().getParentManager().newSubManager()) {
            EncoderOutput out = model.encode(input(m, batch), false);
            return toArray(out.lastHiddenState());
        }
    }

    /** Our sentence embeddings (B, H): pooled as the model's recipe says, optionally L2-normalised. */
    static float[][] oursPooled(TransformerModel model, Batch batch, Pooling pooling, boolean normalize) {
        try (NDManager m = model.manager().getParentManager().newSubManager()) {
            EncoderInput in = input(m, batch);
            NDArray pooled = Pooler.pool(pooling, model.encode(in, false), in.attentionMask()); // (B, H)
            if (normalize) {
                pooled = Pooler.normalize(pooled); // (B, H)
            }
            float[] flat = pooled.toFloatArray();
            int h = (int) pooled.getShape().get(1);
            float[][] rows = new float[batch.lengths().length][h];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(flat, i * h, rows[i], 0, h);
            }
            return rows;
        }
    }

    /** The same pooling done by hand on ONNX Runtime's hidden states: the reference for {@link #oursPooled}. */
    static float[][] poolByHand(float[][][] hidden, int[] lengths, Pooling pooling, boolean normalize) {
        int h = hidden[0][0].length;
        float[][] out = new float[hidden.length][h];
        for (int i = 0; i < hidden.length; i++) {
            double[] acc = new double[h];
            int from = 0;
            int to = pooling == Pooling.CLS ? 1 : lengths[i];
            for (int t = from; t < to; t++) {
                for (int d = 0; d < h; d++) {
                    acc[d] += hidden[i][t][d];
                }
            }
            double norm = 0;
            for (int d = 0; d < h; d++) {
                acc[d] /= (to - from);
                norm += acc[d] * acc[d];
            }
            norm = normalize ? Math.max(Math.sqrt(norm), 1e-12) : 1;
            for (int d = 0; d < h; d++) {
                out[i][d] = (float) (acc[d] / norm);
            }
        }
        return out;
    }

    private static EncoderInput input(NDManager m, Batch batch) {
        int b = batch.lengths().length;
        int t = batch.maxLength();
        Shape shape = new Shape(b, t);
        return new EncoderInput(m.create(flatten(batch.ids()), shape), m.create(flatten(batch.mask()), shape),
                m.create(flatten(batch.types()), shape));
    }

    private static long[] flatten(long[][] rows) {
        long[] out = new long[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * rows[0].length, rows[0].length);
        }
        return out;
    }

    private static float[][][] toArray(NDArray x) {
        long[] s = x.getShape().getShape(); // (B, T, H)
        float[] flat = x.toFloatArray();
        float[][][] out = new float[(int) s[0]][(int) s[1]][(int) s[2]];
        int k = 0;
        for (float[][] row : out) {
            for (float[] tok : row) {
                for (int d = 0; d < tok.length; d++) {
                    tok[d] = flat[k++];
                }
            }
        }
        return out;
    }

    /** Max |a - b| over the real-token positions of each row (padding positions are not compared). */
    static double maxAbsDiff(float[][][] a, float[][][] b, int[] lengths) {
        double max = 0;
        for (int i = 0; i < lengths.length; i++) {
            for (int t = 0; t < lengths[i]; t++) {
                for (int d = 0; d < a[i][t].length; d++) {
                    max = Math.max(max, Math.abs(a[i][t][d] - b[i][t][d]));
                }
            }
        }
        return max;
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            for (int d = 0; d < a[i].length; d++) {
                max = Math.max(max, Math.abs(a[i][d] - b[i][d]));
            }
        }
        return max;
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }
}
