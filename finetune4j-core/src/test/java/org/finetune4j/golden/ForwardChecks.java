package org.finetune4j.golden;

import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Arrays;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.ElectraConfig;
import org.finetune4j.config.EncoderConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.EncoderOutput;
import org.finetune4j.models.TokenLayout;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.testing.Golden;
import org.finetune4j.train.Losses;

/**
 * Checks shared by the model-forward parity tests: padded and packed encoder outputs, rows run alone,
 * and the intermediate hidden states of {@code output_hidden_states=True}.
 */
final class ForwardChecks {
    private ForwardChecks() {
    }

    /** The encoder on the padded layout, as transformers runs it: (B, T, H) with HF's values at padded positions too. */
    static EncoderOutput padded(TransformerModel model, EncoderInput in) {
        return model.encoder().forward(in, TokenLayout.padded(in.attentionMask()), false);
    }

    /** Row i alone, unpadded: its first {@code length} ids (and token types), all-ones mask, batch of one. */
    static EncoderInput row(EncoderInput in, int i, int length) {
        NDArray ids = in.inputIds().get(i + ":" + (i + 1) + ", 0:" + length); // (1, L)
        NDArray types = in.tokenTypeIds() == null ? null : in.tokenTypeIds().get(i + ":" + (i + 1) + ", 0:" + length); // (1, L)
        NDArray mask = ids.getManager().ones(new Shape(1, length), DataType.INT64); // (1, L)
        return new EncoderInput(ids, mask, types);
    }

    /** The first {@code length} positions of row i of a (B, T, H) array, flattened. */
    static float[] realPositions(NDArray states, int i, int length) {
        return states.get(i + ", 0:" + length + ", :").toType(DataType.FLOAT32, false).toFloatArray();
    }

    /** The first {@code length} positions of row i of a (B, T, H) expected tensor, flattened. */
    static float[] realPositions(float[] states, long[] shape, int i, int length) {
        int rowSize = (int) (shape[1] * shape[2]);
        return Arrays.copyOfRange(states, i * rowSize, i * rowSize + length * (int) shape[2]);
    }

    /**
     * Compares the per-token states of a batch at its real positions only, row by row: with the batch's
     * own expected tensor and with each row run alone (padding invariance).
     */
    static void compareRealPositions(Golden g, String what, NDArray states, String expectedName, String unpaddedPrefix,
            int[] lengths, double tol) {
        float[] want = g.tensor(expectedName).toFloats();
        long[] shape = g.tensor(expectedName).shape();
        for (int i = 0; i < lengths.length; i++) {
            float[] got = realPositions(states, i, lengths[i]);
            g.assertClose(what + " row " + i + " real positions vs " + expectedName, realPositions(want, shape, i, lengths[i]),
                    got, tol);
            if (unpaddedPrefix != null) {
                g.assertClose(what + " row " + i + " real positions vs " + unpaddedPrefix + i,
                        g.tensor(unpaddedPrefix + i).toFloats(), got, tol);
            }
        }
    }

    /**
     * The checks every *-seqcls fixture with unpadded rows shares: logits and loss of the batch, the last
     * hidden state (all positions on the padded layout; real positions on the packed inference layout), and
     * each row run alone, which is also our padding invariance.
     */
    static void checkClassifier(Golden g, TransformerModel model, EncoderInput in, double tol) {
        NDManager m = in.inputIds().getManager();
        NDArray logits = model.logits(in, false); // (B, C), packed inference
        g.assertClose("logits", logits, tol);
        NDArray labels = m.create(Golden.longs(g.inputs().get("labels")));
        g.assertClose("loss", Golden.f32(g.json().get("loss")), Losses.crossEntropy(logits, labels, null, 0).getFloat(), tol);

        // Padded layout (training's): every position, padded ones included, is HF's.
        g.assertClose("hidden_states_2", padded(model, in).lastHiddenState(), tol);
        // Packed layout (inference's): only real tokens are computed.
        NDArray packed = model.encode(in, false).lastHiddenState(); // (B, T, H)
        int[] lengths = lengths(g);
        g.assertClose("last_hidden_state, real tokens, packed inference",
                realTokens(g.tensor("last_hidden_state").toFloats(), g.tensor("last_hidden_state").shape(), lengths),
                realTokens(packed.toFloatArray(), packed.getShape().getShape(), lengths), tol);

        for (int i = 0; i < lengths.length; i++) {
            EncoderInput row = row(in, i, lengths[i]);
            NDArray alone = model.encode(row, false).lastHiddenState(); // (1, L, H)
            g.assertClose("unpadded_last_hidden_state_" + i, alone, tol);
            g.assertClose("unpadded_logits_" + i, model.logits(row, false), tol);
            // Padding invariance: row i inside the padded batch against row i alone, both ours.
            g.assertClose("row " + i + " in the batch vs alone (ours)", alone.toFloatArray(),
                    realPositions(packed, i, lengths[i]), tol);
        }
    }

    /** The real positions of every row of a (B, T, H) array, row after row. */
    static float[] realTokens(float[] states, long[] shape, int[] lengths) {
        int h = (int) shape[2];
        float[] out = new float[Arrays.stream(lengths).sum() * h];
        int at = 0;
        for (int i = 0; i < lengths.length; i++) {
            float[] row = realPositions(states, shape, i, lengths[i]);
            System.arraycopy(row, 0, out, at, row.length);
            at += row.length;
        }
        return out;
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

    static int[] lengths(Golden g) {
        return Arrays.stream(Golden.longs(g.inputs().get("lengths"))).mapToInt(Math::toIntExact).toArray();
    }

    /**
     * The model of {@code dir} cut to its first {@code layers} layers: its last hidden state is
     * transformers' {@code hidden_states[layers]} of the whole model (0 = the embeddings' output), since a
     * layer only reads the layer below. The unused layers' weights are left in the file (strict = false).
     */
    static TransformerModel firstLayers(Path dir, NDManager manager, int layers) {
        return TransformerModel.fromPretrained(dir, manager, c -> withLayers(c, layers), false, 0).model();
    }

    private static ModelConfig withLayers(ModelConfig c, int n) {
        EncoderConfig e = c.encoder();
        EncoderConfig cut;
        if (e instanceof BertConfig b) {
            cut = new BertConfig(b.modelType(), b.vocabSize(), b.hiddenSize(), n, b.numHeads(), b.intermediateSize(),
                    b.hiddenAct(), b.hiddenDropout(), b.attentionDropout(), b.maxPositionEmbeddings(), b.typeVocabSize(),
                    b.initializerRange(), b.layerNormEps(), b.padTokenId(), b.classifierDropoutOrNull());
        } else if (e instanceof ElectraConfig x) {
            cut = new ElectraConfig(x.vocabSize(), x.embeddingSize(), x.hiddenSize(), n, x.numHeads(), x.intermediateSize(),
                    x.hiddenAct(), x.hiddenDropout(), x.attentionDropout(), x.maxPositionEmbeddings(), x.typeVocabSize(),
                    x.initializerRange(), x.layerNormEps(), x.padTokenId(), x.classifierDropoutOrNull());
        } else if (e instanceof DistilBertConfig d) {
            cut = new DistilBertConfig(d.vocabSize(), d.dim(), n, d.nHeads(), d.hiddenDim(), d.activation(), d.dropout(),
                    d.attentionDropout(), d.maxPositionEmbeddings(), d.sinusoidalPosEmbds(), d.initializerRange(),
                    d.seqClassifDropout(), d.padTokenId());
        } else {
            throw new IllegalArgumentException("no layer cut for " + e.modelType());
        }
        return new ModelConfig(cut, c.labels(), c.problemType(), c.head(), c.decisionThreshold(), c.notes(),
                c.preprocessing(), c.extra());
    }
}
