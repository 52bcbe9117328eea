package org.finetune4j.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.finetune4j.config.BertConfig;
import org.finetune4j.config.DistilBertConfig;
import org.finetune4j.config.EncoderConfig;

/**
 * Tiny random models for fast tests (hidden 32, 2 layers, 4 heads, as transformers' own tests use),
 * with the real uncased WordPiece tokenizer that ships inside the packaged MiniLM jar, so they tokenise
 * real text and need nothing outside the classpath.
 */
public final class TinyModels {
    /** The uncased BERT vocabulary size of the packaged tokenizer. */
    public static final int VOCAB = 30522;

    private TinyModels() {
    }

    public static BertConfig bert() {
        return BertConfig.tiny("bert", VOCAB);
    }

    public static DistilBertConfig distilbert() {
        return DistilBertConfig.tiny(VOCAB);
    }

    /** RoBERTa shares the vocabulary here only so the same tokenizer works; its pad id is 1 as in roberta-base. */
    public static BertConfig roberta() {
        return BertConfig.tiny("roberta", VOCAB);
    }

    public static EncoderConfig of(String modelType) {
        return switch (modelType) {
            case "bert" -> bert();
            case "distilbert" -> distilbert();
            case "roberta" -> roberta();
            default -> throw new IllegalArgumentException(modelType);
        };
    }

    /** Copies the packaged uncased tokenizer.json into {@code dir}. */
    public static void writeTokenizer(Path dir) {
        try (InputStream in = TinyModels.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            if (in == null) {
                throw new IllegalStateException("the packaged MiniLM jar is not on the test classpath");
            }
            Files.createDirectories(dir);
            Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
