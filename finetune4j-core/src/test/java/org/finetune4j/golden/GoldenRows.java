package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.TokenLayout;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.train.Losses;

/**
 * The checks every *-seqcls fixture with unpadded rows shares: logits and loss of the batch, the last
 * hidden state (all positions on the padded layout; real positions on the packed inference layout), and
 * each row run alone, which is also our padding invariance.
 */
final class GoldenRows {
    private GoldenRows() {
    }

    static void checkClassifier(Golden g, TransformerModel model, EncoderInput in, double tol) {
        NDManager m = in.inputIds().getManager();
        NDArray logits = model.logits(in, false); // (B, C), packed inference
        g.assertClose("logits", logits, tol);
        NDArray labels = m.create(Golden.longs(g.inputs().get("labels")));
        g.assertClose("loss", Golden.f32(g.json().get("loss")), Losses.crossEntropy(logits, labels, null, 0).getFloat(), tol);

        // Padded layout (training's): every position, padded ones included, is HF's.
        NDArray padded = model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false).lastHiddenState();
        g.assertClose("hidden_states_2", padded, tol);
        // Packed layout (inference's): only real tokens are computed.
        NDArray packed = model.encode(in, false).lastHiddenState(); // (B, T, H)
        long[] lengths = Golden.longs(g.inputs().get("lengths"));
        g.assertClose("last_hidden_state, real tokens, packed inference", realTokens(g.tensor("last_hidden_state").toFloats(),
                lengths, packed.getShape()), realTokens(packed.toFloatArray(), lengths, packed.getShape()), tol);

        JsonNode ids = g.inputs().get("input_ids");
        JsonNode types = g.inputs().get("token_type_ids");
        for (int i = 0; i < lengths.length; i++) {
            int len = (int) lengths[i];
            long[] rowIds = new long[len];
            long[] rowTypes = new long[len];
            for (int j = 0; j < len; j++) {
                rowIds[j] = ids.get(i).get(j).asLong();
                rowTypes[j] = types == null ? 0 : types.get(i).get(j).asLong();
            }
            Shape s = new Shape(1, len);
            EncoderInput row = new EncoderInput(m.create(rowIds, s), m.ones(s, ai.djl.ndarray.types.DataType.INT64),
                    types == null ? null : m.create(rowTypes, s));
            NDArray alone = model.encode(row, false).lastHiddenState(); // (1, L, H)
            g.assertClose("unpadded_last_hidden_state_" + i, alone, tol);
            g.assertClose("unpadded_logits_" + i, model.logits(row, false), tol);
            // Padding invariance: row i inside the padded batch against row i alone, both ours.
            g.assertClose("row " + i + " in the batch vs alone (ours)", alone.toFloatArray(),
                    packed.get(i + ", :" + len + ", :").toFloatArray(), tol);
        }
    }

    /**
     * Every field of the fixture's config.json comes back with the same value from our config.json: the
     * architecture's fields through its record, the rest kept as read.
     */
    static void checkConfigKeepsEveryField(Golden g, Path ours) {
        try {
            ObjectMapper json = new ObjectMapper();
            JsonNode theirs = json.readTree(g.dir().resolve("config.json").toFile());
            JsonNode back = json.readTree(ours.resolve("config.json").toFile());
            theirs.fieldNames().forEachRemaining(f -> {
                if (!back.has(f) || !sameJson(theirs.get(f), back.get(f))) {
                    fail(g.name() + ": config.json field \"" + f + "\" was " + theirs.get(f) + ", ours writes " + back.get(f));
                }
            });
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Equal JSON, numbers compared by value (1e-05 and 0.00001 are the same field). */
    private static boolean sameJson(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) {
            return a.asDouble() == b.asDouble();
        }
        return a.equals(b);
    }

    /** The real positions of a (B, T, H) array, row after row. */
    static float[] realTokens(float[] flat, long[] lengths, Shape shape) {
        int t = (int) shape.get(1);
        int h = (int) shape.get(2);
        long total = 0;
        for (long l : lengths) {
            total += l;
        }
        float[] out = new float[(int) total * h];
        int at = 0;
        for (int i = 0; i < lengths.length; i++) {
            System.arraycopy(flat, i * t * h, out, at, (int) lengths[i] * h);
            at += (int) lengths[i] * h;
        }
        return out;
    }
}
