package org.finetune4j.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.onnx.PackagedModels;
import org.finetune4j.onnx.PackagedModels.PackagedModel;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.text.Tokenized;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The golden test: our BERT encoder on the imported packaged models against ONNX Runtime on the very
 * ONNX files they were imported from. Slow (imports of 90 and 133 MB exports, two runtimes).
 */
@Tag("slow")
class PackagedBertOnnxParityTest {
    /** Lengths from 4 to over 100 tokens, so the batch is mostly padding for the short ones. */
    private static final List<String> TEXTS = List.of(
            "Hi.",
            "The cat sleeps on the warm windowsill.",
            "A man is playing a guitar on stage while the crowd sings along to every word of the chorus.",
            "Transformers read a whole sequence at once: every token attends to every other token through scaled"
                    + " dot-product attention, and a padding mask keeps the padded positions of a batch from taking part,"
                    + " so that a short sentence in a batch of long ones gets exactly the representation it would get"
                    + " alone. This paragraph is long on purpose, to make the batch as uneven as real data is.");
    /** One text pair too, so token_type_ids of 1 are exercised. */
    private static final String[] PAIR = {"Where is the station?", "The station is two streets north of here."};

    @TempDir
    static Path home;
    private static final Map<String, OrtSession> SESSIONS = new ConcurrentHashMap<>();

    @AfterAll
    static void closeSessions() throws Exception {
        for (OrtSession s : SESSIONS.values()) {
            s.close();
        }
    }

    private static OrtSession session(PackagedModel m) {
        return SESSIONS.computeIfAbsent(m.id(), id -> {
            try (InputStream in = PackagedBertOnnxParityTest.class.getResourceAsStream("/" + m.onnxResource())) {
                return OrtEnvironment.getEnvironment().createSession(in.readAllBytes(), new OrtSession.SessionOptions());
            } catch (IOException | ai.onnxruntime.OrtException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private static List<Tokenized> tokenize(Path dir, List<String> texts, boolean withPair) {
        try (TextTokenizer tok = TextTokenizer.load(dir, 512)) {
            List<Tokenized> seqs = new ArrayList<>(tok.encodeAll(texts, null));
            if (withPair) {
                seqs.add(tok.encode(PAIR[0], PAIR[1]));
            }
            return seqs;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2", "bge-small-en-v1.5"})
    void lastHiddenStateMatchesOnnxRuntime(String id) throws Exception {
        PackagedModel pm = PackagedModels.get(id);
        Path dir = PackagedModels.resolve(id, home);

        // The facts of the upstream models, as read from the exports.
        BertConfig c = (BertConfig) ModelConfig.read(dir).encoder();
        assertEquals(id.startsWith("all-MiniLM") ? 6 : 12, c.numLayers());
        assertEquals(List.of(384, 12, 1536, 30522, 512, 2), List.of(c.hiddenSize(), c.numHeads(), c.intermediateSize(),
                c.vocabSize(), c.maxPositionEmbeddings(), c.typeVocabSize()));
        assertEquals("gelu", c.hiddenAct());
        assertEquals(1e-12, c.layerNormEps());
        OrtSession session = session(pm);
        assertEquals(List.of("input_ids", "attention_mask", "token_type_ids"), List.copyOf(session.getInputNames()));

        List<Tokenized> seqs = tokenize(dir, TEXTS, true);
        OnnxParity.Batch batch = OnnxParity.Batch.of(seqs, 0, c.padTokenId());
        int[] lengths = batch.lengths();
        assertTrue(Arrays.stream(lengths).max().getAsInt() >= 5 * Arrays.stream(lengths).min().getAsInt(),
                "clearly different lengths: " + Arrays.toString(lengths));
        assertTrue(Arrays.stream(seqs.get(seqs.size() - 1).typeIds()).anyMatch(t -> t == 1), "the pair has segment 1");

        float[][][] expected = OnnxParity.ort(session, batch);
        try (NDManager manager = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(dir, manager).model()) {
            float[][][] actual = OnnxParity.ours(model, batch);
            double diff = OnnxParity.maxAbsDiff(expected, actual, lengths);
            System.out.printf("%s: our Bert vs ONNX Runtime, last_hidden_state max abs diff %.3g (batch %d, lengths %s)%n",
                    id, diff, lengths.length, Arrays.toString(lengths));
            assertTrue(diff <= 1e-4, id + ": max abs diff " + diff);
        }
    }

    @Test
    void paddingDoesNotChangeTheRealTokens() {
        Path dir = PackagedModels.resolve("all-MiniLM-L6-v2", home);
        List<Tokenized> seqs = tokenize(dir, TEXTS, true);
        OnnxParity.Batch batch = OnnxParity.Batch.of(seqs, 0, 0);
        OnnxParity.Batch morePadding = OnnxParity.Batch.of(seqs, batch.maxLength() + 37, 0);
        try (NDManager manager = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(dir, manager).model()) {
            float[][][] padded = OnnxParity.ours(model, batch);
            float[][][] extra = OnnxParity.ours(model, morePadding);
            double worst = OnnxParity.maxAbsDiff(padded, extra, batch.lengths());
            for (int i = 0; i < seqs.size(); i++) {
                OnnxParity.Batch alone = OnnxParity.Batch.of(List.of(seqs.get(i)), 0, 0); // no padding at all
                float[][][] single = OnnxParity.ours(model, alone);
                float[][][] row = {padded[i]};
                worst = Math.max(worst, OnnxParity.maxAbsDiff(single, row, alone.lengths()));
            }
            System.out.printf("all-MiniLM-L6-v2: padding invariance, max abs diff %.3g (alone vs padded to %d vs %d)%n",
                    worst, batch.maxLength(), morePadding.maxLength());
            assertTrue(worst <= 1e-5, "max abs diff " + worst);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"all-MiniLM-L6-v2", "bge-small-en-v1.5"})
    void sentenceEmbeddingsMatchOnnxRuntimeAndRankParaphrasesFirst(String id) throws Exception {
        PackagedModel pm = PackagedModels.get(id);
        Path dir = PackagedModels.resolve(id, home);
        List<String> texts = List.of(
                "A man is playing a guitar.",
                "Someone is strumming a guitar.",
                "The central bank raised interest rates again this quarter.");
        OnnxParity.Batch batch = OnnxParity.Batch.of(tokenize(dir, texts, false), 0, 0);
        float[][] reference = OnnxParity.poolByHand(OnnxParity.ort(session(pm), batch), batch.lengths(), pm.pooling(),
                pm.normalize());
        try (NDManager manager = NDManager.newBaseManager();
                TransformerModel model = TransformerModel.load(dir, manager).model()) {
            float[][] ours = OnnxParity.oursPooled(model, batch, pm.pooling(), pm.normalize());
            double diff = OnnxParity.maxAbsDiff(reference, ours);
            double paraphrase = OnnxParity.cosine(ours[0], ours[1]);
            double unrelated = Math.max(OnnxParity.cosine(ours[0], ours[2]), OnnxParity.cosine(ours[1], ours[2]));
            System.out.printf("%s: sentence embedding (%s) vs ONNX Runtime max abs diff %.3g; cosine paraphrase %.3f,"
                    + " unrelated %.3f%n", id, pm.sentenceEmbedding(), diff, paraphrase, unrelated);
            assertTrue(diff <= 1e-4, "max abs diff " + diff);
            assertTrue(paraphrase > unrelated + 0.2, "paraphrase " + paraphrase + " vs unrelated " + unrelated);
            for (float[] e : ours) {
                assertEquals(1.0, Math.sqrt(dot(e, e)), 1e-5, "unit length");
            }
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
