package org.finetune4j.api;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.finetune4j.config.ModelConfig;
import org.finetune4j.config.Pooling;
import org.finetune4j.models.EncoderInput;
import org.finetune4j.models.Pooler;
import org.finetune4j.models.TransformerModel;
import org.finetune4j.text.Padding;
import org.finetune4j.text.TextTokenizer;
import org.finetune4j.text.Tokenized;

/**
 * Sentence embeddings from any model directory's encoder, as sentence-transformers computes them:
 * the encoder's last hidden states pooled (mean over real tokens, or the first token) and optionally
 * L2-normalised. A classifier's head is ignored.
 */
public final class SentenceEncoder implements AutoCloseable {
    private final NDManager manager;
    private final TransformerModel model;
    private final TextTokenizer tokenizer;

    private SentenceEncoder(NDManager manager, TransformerModel model, TextTokenizer tokenizer) {
        this.manager = manager;
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /** @param maxLength truncation length; 0 uses the tokenizer's model_max_length (or the model's positions) */
    public static SentenceEncoder load(Path dir, int maxLength) {
        NDManager m = NDManager.newBaseManager();
        try {
            TransformerModel model = TransformerModel.fromPretrained(dir, m, c -> ModelConfig.encoderOnly(c.encoder()), false, 0)
                    .model();
            TextTokenizer probe = TextTokenizer.load(dir, 0);
            probe.checkCompatible(model.config().encoder().vocabSize(), dir.toString());
            int max = maxLength > 0 ? maxLength : probe.modelMaxLength() > 0 ? probe.modelMaxLength()
                    : model.config().encoder().maxPositionEmbeddings();
            TextTokenizer tok = probe.withMaxLength(max);
            probe.close();
            return new SentenceEncoder(m, model, tok);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /** One vector of hidden-size floats per text, in input order. */
    public float[][] encode(List<String> texts, Pooling pooling, boolean normalize) {
        if (pooling == Pooling.POOLER) {
            throw new IllegalArgumentException("sentence embeddings pool with mean or cls");
        }
        List<Tokenized> enc = tokenizer.encodeAll(texts, null);
        Integer[] order = IntStream.range(0, enc.size()).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingInt(i -> -enc.get(i).length()));
        float[][] out = new float[texts.size()][];
        int batch = 32;
        for (int start = 0; start < order.length; start += batch) {
            int end = Math.min(order.length, start + batch);
            List<Tokenized> items = new ArrayList<>();
            for (int j = start; j < end; j++) {
                items.add(enc.get(order[j]));
            }
            try (NDManager m = manager.newSubManager()) {
                EncoderInput in = Padding.batch(m, items, model.config().encoder().padTokenId());
                NDArray pooled = Pooler.pool(pooling, model.encode(in, false), in.attentionMask()); // (B, H)
                if (normalize) {
                    pooled = Pooler.normalize(pooled); // (B, H)
                }
                int h = (int) pooled.getShape().get(1);
                float[] flat = pooled.toFloatArray();
                for (int j = start; j < end; j++) {
                    out[order[j]] = Arrays.copyOfRange(flat, (j - start) * h, (j - start + 1) * h);
                }
            }
        }
        return out;
    }

    public ModelConfig config() {
        return model.config();
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
        manager.close();
    }
}
